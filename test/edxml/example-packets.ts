// Example packet models shared by the builder and round-trip tests: one document packet using every
// field (several recipients and attachments, Vietnamese text, characters that need escaping, a
// DSig-namespaced signature), a status packet, and a document with only the required fields.

import { XMLDSIG_NAMESPACE } from '../../src/edxml/model.ts';
import type { DocumentPacket, StatusPacket } from '../../src/edxml/model.ts';

export const documentPacket: DocumentPacket = {
  kind: 'document',
  header: {
    from: {
      organId: '000.00.15.H47',
      organizationInCharge: 'UBND tỉnh Quảng Nam',
      organName: 'Sở Lao động - Thương binh và Xã hội',
      organAdd: '01 Trần Hưng Đạo, Tam Kỳ',
      email: 'soldtbxh@quangnam.gov.vn',
      telephone: '0235 3812 345',
      fax: '0235 3812 346',
      website: 'sldtbxh.quangnam.gov.vn',
    },
    to: [
      { organId: '000.01.15.H47', organName: 'Văn phòng Sở' },
      { organId: '000.02.15.H47', organName: 'Thanh tra Sở', email: 'thanhtra@quangnam.gov.vn' },
      { organId: '000.00.00.G22', organizationInCharge: 'Chính phủ', organName: 'Văn phòng Chính phủ' },
    ],
    documentId: '000.00.15.H47,2025/03/05,123/SLĐTBXH-VP',
    code: { codeNumber: '123', codeNotation: 'SLĐTBXH-VP' },
    promulgationInfo: { place: 'Quảng Nam', promulgationDate: '2025/03/05' },
    documentType: { type: 1, typeDetail: 0, typeName: 'Công văn' },
    subject: 'V/v "AT&T" <khẩn> ]]> & báo cáo\ttình hình',
    content: 'Dòng 1\r\nDòng 2 > 1',
    signerInfo: { competence: 'KT. GIÁM ĐỐC', position: 'Phó Giám đốc', fullName: 'Nguyễn Văn A' },
    dueDate: '2025/03/15',
    otherInfo: {
      priority: 2,
      sphereOfPromulgation: 'Liên thông văn bản quốc gia',
      typerNotation: 'NVB',
      promulgationAmount: 3,
      pageAmount: 12,
      direction: true,
      appendixes: ['Phụ lục I', 'Phụ lục II'],
    },
    responseFor: [
      {
        organId: '000.00.00.G22',
        code: '7816/VPCP-TTĐT',
        promulgationDate: '2015/09/30',
        documentId: '000.00.00.G22,2015/09/30,7816/VPCP-TTĐT',
      },
    ],
    steeringType: 1,
    toPlaces: ['Như trên', 'Lưu: VT, VP'],
  },
  traceHeaders: [
    { organId: '000.00.15.H47', timestamp: '2025/03/05 09:15:00' },
    { organId: '000.00.00.H47', timestamp: '2025/03/05 09:15:02' },
  ],
  business: {
    documentId: '000.00.15.H47,2025/03/01,120/SLĐTBXH-VP',
    businessDocType: 2,
    businessDocReason: 'Cập nhật văn bản điện tử',
    paper: 0,
    documentInfo: {
      documentInfo: 1,
      documentReceiver: 1,
      receivers: [
        { organId: '000.01.15.H47', receiverType: 0 },
        { organId: '000.02.15.H47', receiverType: 1 },
      ],
    },
    replacements: [{ documentId: '000.00.15.H47,2025/02/01,99/SLĐTBXH-VP', organIds: ['000.01.15.H47', '000.02.15.H47'] }],
    staffInfo: {
      department: 'Văn phòng Sở',
      departmentId: 'VP',
      staff: 'Trần Thị B',
      staffId: 'NV01',
      email: 'vanthu@quangnam.gov.vn',
      mobile: '84900000000',
    },
  },
  signature: {
    namespace: XMLDSIG_NAMESPACE,
    canonicalizationMethod: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    signatureMethod: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    referenceUris: [''],
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestMethod: 'http://www.w3.org/2001/04/xmlenc#sha256',
    digestValue: 'q1w2e3r4t5y6u7i8o9p0q1w2e3r4t5y6u7i8o9p0qwe=',
    signatureValue: 'c2lnbmF0dXJl',
    x509SubjectName: 'CN=Sở LĐTBXH, O=Ban Cơ yếu Chính phủ, C=VN',
    x509Certificate: 'MIIFqTCCBJG',
  },
  manifest: [
    { contentId: 'cid:1', contentType: 'application/pdf', description: 'Văn bản ký số', attachmentName: '123.signed.pdf' },
    { contentId: 'cid:2', contentType: 'application/zip', description: 'Phụ lục & số liệu', attachmentName: 'phu-luc.zip' },
  ],
  attachments: [
    { contentId: 'cid:1', attachmentName: '123.signed.pdf', description: 'Văn bản ký số', contentType: 'application/pdf', content: 'JVBERi0xLjcK' },
    { contentId: 'cid:2', attachmentName: 'phu-luc.zip', description: 'Phụ lục & số liệu', contentType: 'application/zip', content: 'UEsDBBQACAgI' },
  ],
};

export const statusPacket: StatusPacket = {
  kind: 'status',
  from: { organId: '000.01.15.H47', organizationInCharge: 'Sở LĐTBXH Quảng Nam', organName: 'Văn phòng Sở' },
  responseFor: {
    organId: '000.00.15.H47',
    code: '123/SLĐTBXH-VP',
    promulgationDate: '2025/03/05',
    documentId: '000.00.15.H47,2025/03/05,123/SLĐTBXH-VP',
  },
  staffInfo: { department: 'Phòng Hành chính', staff: 'Lê Văn C', email: 'vanthu@quangnam.gov.vn', mobile: '84911111111' },
  statusCode: '02',
  description: 'Từ chối: thiếu phụ lục <II> & sai số',
  timestamp: '2025/03/05 10:02:41',
};

export const minimalDocument: DocumentPacket = {
  kind: 'document',
  header: {
    from: { organId: '000.00.15.H47' },
    to: [{ organId: '000.01.15.H47' }],
    documentId: '000.00.15.H47,2025/03/05,1/SLĐTBXH',
    code: { codeNumber: '1', codeNotation: 'SLĐTBXH' },
    promulgationInfo: { promulgationDate: '2025/03/05' },
    documentType: { type: 1 },
    subject: 'Thông báo',
    responseFor: [],
    toPlaces: [],
  },
  traceHeaders: [{ organId: '000.00.15.H47', timestamp: '2025/03/05 09:15:00' }],
  manifest: [],
  attachments: [],
};
