// Closed sets of the edXML wire format (spec/edxml.md §3.3, §3.4, §4.2). Each is an `as const` array
// with a derived union type and a runtime guard, so a value read off the wire is checked once and
// typed from then on.

/** Priority (OtherInfo/Priority): 0 thường, 1 khẩn, 2 thượng khẩn, 3 hỏa tốc, 4 hỏa tốc hẹn giờ. */
export const PRIORITIES = [0, 1, 2, 3, 4] as const;
export type Priority = (typeof PRIORITIES)[number];
export const PRIORITY_NAMES: Readonly<Record<Priority, string>> = {
  0: 'Thường',
  1: 'Khẩn',
  2: 'Thượng khẩn',
  3: 'Hỏa tốc',
  4: 'Hỏa tốc hẹn giờ',
};
/** Urgent priorities are claimed before ordinary ones (DESIGN: the 5-second budget). */
export function isUrgent(priority: Priority): boolean {
  return priority >= 1;
}

/** Bussiness/BussinessDocType: 0 new, 1 revoke, 2 update, 3 replace. */
export const BUSINESS_DOC_TYPES = [0, 1, 2, 3] as const;
export type BusinessDocType = (typeof BUSINESS_DOC_TYPES)[number];
export const BUSINESS_DOC_TYPE_NAMES: Readonly<Record<BusinessDocType, string>> = {
  0: 'Văn bản mới',
  1: 'Thu hồi',
  2: 'Cập nhật',
  3: 'Thay thế',
};

/** SteeringType: 0 not a steering document, 1 steering, 2 report on steering. */
export const STEERING_TYPES = [0, 1, 2] as const;
export type SteeringType = (typeof STEERING_TYPES)[number];

/** Status codes carried by status packets (spec §4.2). No 07–12 or 14 exist on the wire. */
export const STATUS_CODES = ['01', '02', '03', '04', '05', '06', '13', '15', '16'] as const;
export type StatusCode = (typeof STATUS_CODES)[number];

/** Statuses whose Description must carry the reason: rejection, recall request, refused recall. */
export const STATUS_CODES_REQUIRING_REASON: readonly StatusCode[] = ['02', '13', '16'];

/** Meaning of each status code in Vietnamese, as the timeline and the dashboard show it. */
export const STATUS_MEANINGS: Readonly<Record<StatusCode, string>> = {
  '01': 'Đã đến',
  '02': 'Từ chối tiếp nhận',
  '03': 'Đã tiếp nhận',
  '04': 'Phân công xử lý',
  '05': 'Đang xử lý',
  '06': 'Hoàn thành',
  '13': 'Yêu cầu lấy lại',
  '15': 'Đồng ý yêu cầu cập nhật, lấy lại',
  '16': 'Từ chối yêu cầu cập nhật, lấy lại',
};

function guard<T extends string | number>(values: readonly T[]) {
  const set = new Set<unknown>(values);
  return (value: unknown): value is T => set.has(value);
}

export const isPriority = guard(PRIORITIES);
export const isBusinessDocType = guard(BUSINESS_DOC_TYPES);
export const isSteeringType = guard(STEERING_TYPES);
export const isStatusCode = guard(STATUS_CODES);
