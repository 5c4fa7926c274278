// axisCompat.prefix (AXIS_PREFIX): where the axis-compatible API lives, and how it is turned off.

import t from 'tap';
import { loadConfig } from '../../src/config/load.ts';

function prefixFrom(env: Record<string, string>, overrides?: { axisCompat: { prefix: string } }): string | readonly string[] {
  const loaded = loadConfig({ env, files: [], ...(overrides === undefined ? {} : { overrides }) });
  return loaded.ok ? loaded.value.axisCompat.prefix : loaded.issues.map((i) => i.path);
}

t.test('AXIS_PREFIX', async (t) => {
  t.equal(prefixFrom({}), '/axis', 'default /axis');
  t.equal(prefixFrom({ AXIS_PREFIX: '/vxp/v2' }), '/vxp/v2');
  t.equal(prefixFrom({ AXIS_PREFIX: 'off' }), 'off', 'off disables it from the environment');
  t.equal(prefixFrom({ AXIS_PREFIX: '' }), '/axis', 'an empty variable counts as unset, as every variable');
  t.equal(prefixFrom({}, { axisCompat: { prefix: '' } }), '', 'an empty string disables it in a config file');
  for (const bad of ['axis', '/axis/', '/', '/a b', '/a//b']) t.same(prefixFrom({ AXIS_PREFIX: bad }), ['env:AXIS_PREFIX'], `refused: ${JSON.stringify(bad)}`);
});
