// Attachment payloads the parser leaves unread. A payload is most of a packet (a 50 MB file is 67 MB
// of base64), and turning it into a string beside the bytes it came from doubled what a packet cost
// in memory while intake held it (test/e2e/memory.test.ts). So an attachment whose payload the XML
// reader kept as bytes (a LongText, src/edxml/xml.ts) reads its `content` on first use and keeps it;
// the validator judges the payload from the bytes without reading it (longContentOf), and intake
// never reads it at all. To every other reader the attachment is the same plain value.

import type { Attachment } from './model.ts';
import type { LongText } from './xml.ts';

/** The unread payload of each attachment made by attachmentWithLongContent. */
const unread = new WeakMap<Attachment, LongText>();

/** An attachment whose `content` is `text` with its whitespace removed, read on first use. */
export function attachmentWithLongContent(fields: Omit<Attachment, 'content'>, text: LongText): Attachment {
  let content: string | undefined;
  const attachment: Attachment = {
    ...fields,
    get content(): string {
      content ??= text.compact();
      return content;
    },
  };
  unread.set(attachment, text);
  return attachment;
}

/** The payload of an attachment made by attachmentWithLongContent, as bytes; undefined for any other. */
export function longContentOf(attachment: Attachment): LongText | undefined {
  return unread.get(attachment);
}
