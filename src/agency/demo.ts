// The demo directory the embedded default starts with (DESIGN "Demo data"): a real sở with its ten
// units, its province, and Văn phòng Chính phủ reached upstream, so a fresh `npm start` can
// exchange packets between real-looking codes without any setup.

import { AgencyDirectory } from './directory.ts';
import type { AgencyRecord } from './directory.ts';

const SO_LDTBXH_QUANG_NAM = '000.00.15.H47';

// Units of the sở, numbered in L3 as the province allocated them (000.01.15.H47 … 000.10.15.H47).
const UNITS = [
  'Văn phòng Sở',
  'Thanh tra Sở',
  'Phòng Kế hoạch - Tài chính',
  'Phòng Lao động - Việc làm',
  'Phòng Người có công',
  'Phòng Bảo trợ xã hội',
  'Phòng Trẻ em',
  'Phòng Giáo dục nghề nghiệp',
  'Trung tâm Dịch vụ việc làm',
  'Cơ sở Bảo trợ xã hội',
] as const;

/** The demo records: VPCP, UBND tỉnh Quảng Nam, Sở LĐTBXH Quảng Nam and its ten units. */
export function demoDirectoryRecords(): readonly AgencyRecord[] {
  return [
    { code: '000.00.00.G22', name: 'Văn phòng Chính phủ', state: 'active', route: 'upstream' },
    { code: '000.00.00.H47', name: 'Ủy ban nhân dân tỉnh Quảng Nam', state: 'active' },
    { code: SO_LDTBXH_QUANG_NAM, name: 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam', state: 'active' },
    ...UNITS.map((name, i): AgencyRecord => ({
      code: `000.${String(i + 1).padStart(2, '0')}.15.H47`,
      name,
      state: 'active',
    })),
  ];
}

/** The demo directory as a snapshot. */
export function demoDirectory(): AgencyDirectory {
  return AgencyDirectory.create(demoDirectoryRecords());
}
