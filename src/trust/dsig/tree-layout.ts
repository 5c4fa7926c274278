// The general path's counterpart of what canonical-scan.ts finds while scanning: in a parsed tree,
// every Signature element in the XML-DSig namespace (anywhere — the anti-wrapping rule counts them
// all) and the children of /edXML/edXMLEnvelope/edXMLHeader.
//
// Namespaces are resolved leniently here, as src/edxml/xml.ts does for attributes: an unbound prefix
// leaves the element in no namespace instead of failing, because the official sample edoc.edxml has
// one (`edXML:AttachmentEncoded` outside the declaration) and must still be recognised as a
// placeholder. Canonicalization, which the verdict "valid" depends on, is strict.

import { EDXML_NAMESPACE, XMLDSIG_NAMESPACE } from '../../edxml/model.ts';
import { EMPTY_SCOPE, splitQName, xmlAttributesOf } from './canonicalize.ts';
import type { Scope } from './canonicalize.ts';
import type { DocumentNode, ElementNode, XmlAttribute } from './xml-tree.ts';

export interface TreeSignature {
  readonly element: ElementNode;
  /** Namespaces and xml:* attributes in scope at the parent. */
  readonly parentScope: Scope;
  readonly parentXmlAttributes: readonly XmlAttribute[];
  readonly inHeader: boolean;
}

export interface TreeHeaderChild {
  readonly element: ElementNode;
  readonly local: string;
  readonly namespace: string | undefined;
}

export interface TreeHeader {
  readonly element: ElementNode;
  readonly scope: Scope;
  readonly xmlAttributes: readonly XmlAttribute[];
  readonly children: readonly TreeHeaderChild[];
}

export interface TreeLayout {
  readonly dsigSignatures: readonly TreeSignature[];
  readonly header: TreeHeader | undefined;
}

type Role = 'root' | 'envelope' | 'header' | 'other';

/** Finds the DSig Signatures and the edXMLHeader of a parsed document. */
export function treeLayout(document: DocumentNode): TreeLayout {
  const dsigSignatures: TreeSignature[] = [];
  let header: { element: ElementNode; scope: Scope; xmlAttributes: readonly XmlAttribute[]; children: TreeHeaderChild[] } | undefined;

  // Depth is bounded by the parser's maxDepth, so plain recursion is safe.
  const visit = (
    element: ElementNode,
    parent: ElementNode | undefined,
    parentRole: Role | undefined,
    parentScope: Scope,
    parentXml: readonly XmlAttribute[],
  ): void => {
    const scope = lenientScope(element, parentScope);
    const xml = xmlAttributesOf(element, parentXml);
    const { prefix, local } = splitQName(element.name);
    const bound = prefix === 'xml' ? undefined : scope.get(prefix);
    const namespace = bound === '' ? undefined : bound;

    let role: Role = 'other';
    if (parentRole === undefined) role = local === 'edXML' && namespace === EDXML_NAMESPACE ? 'root' : 'other';
    else if (parentRole === 'root' && local === 'edXMLEnvelope' && namespace === EDXML_NAMESPACE) role = 'envelope';
    else if (parentRole === 'envelope' && local === 'edXMLHeader' && namespace === EDXML_NAMESPACE && header === undefined) role = 'header';
    if (role === 'header') header = { element, scope, xmlAttributes: xml, children: [] };
    if (parentRole === 'header' && header !== undefined && header.element === parent) header.children.push({ element, local, namespace });

    if (local === 'Signature' && namespace === XMLDSIG_NAMESPACE) {
      dsigSignatures.push({ element, parentScope, parentXmlAttributes: parentXml, inHeader: parentRole === 'header' && header?.element === parent });
    }
    for (const child of element.children) {
      if (child.kind === 'element') visit(child, element, role, scope, xml);
    }
  };
  visit(document.root, undefined, undefined, EMPTY_SCOPE, []);
  return { dsigSignatures, header };
}

/** How many DSig Signature elements are strictly inside `element` (whose own scope is `scope`). */
export function dsigSignaturesWithin(element: ElementNode, scope: Scope): number {
  let count = 0;
  for (const child of element.children) {
    if (child.kind !== 'element') continue;
    const childScope = lenientScope(child, scope);
    const { prefix, local } = splitQName(child.name);
    if (local === 'Signature' && prefix !== 'xml' && childScope.get(prefix) === XMLDSIG_NAMESPACE) count += 1;
    count += dsigSignaturesWithin(child, childScope);
  }
  return count;
}

/** The element's scope, ignoring declarations Namespaces in XML would refuse (canonicalization refuses them). */
function lenientScope(element: ElementNode, parent: Scope): Scope {
  let scope: Map<string, string> | undefined;
  for (const a of element.attributes) {
    let prefix: string;
    if (a.name === 'xmlns') prefix = '';
    else if (a.name.startsWith('xmlns:')) prefix = a.name.slice(6);
    else continue;
    if (prefix === 'xml' || prefix === 'xmlns') continue;
    scope ??= new Map(parent);
    scope.set(prefix, a.value);
  }
  return scope ?? parent;
}
