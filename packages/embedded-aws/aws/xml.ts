import type { ServerResponse } from 'node:http';
/**
 * The XML of the AWS query protocol's answers (SQS's older clients, SNS): one element with escaped text.
 *
 * @example
 * element('MessageId', id); // '<MessageId>…</MessageId>'
 */

/** Answers with an XML document, once (a response already sent or destroyed is left alone). */
export function sendXml(res: ServerResponse, status: number, xml: string, requestId: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'Content-Type': 'text/xml',
    'Content-Length': String(Buffer.byteLength(xml)),
    'x-amzn-RequestId': requestId,
  });
  res.end(xml);
}

export function element(name: string, text: string): string {
  return `<${name}>${escapeXml(text)}</${name}>`;
}

/** Text as XML character data; a carriage return is kept as a reference, as AWS's answers keep it. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\r/g, '&#xD;');
}
