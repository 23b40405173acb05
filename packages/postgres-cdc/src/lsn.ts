/**
 * PostgreSQL log sequence numbers as 64-bit integers. The server prints `0/7131278`, pgoutput
 * sends `00000000/07131278`: compared as text they disagree, as numbers they do not.
 */
export function parseLsn(text: string): bigint {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`Not an LSN: ${text}`);
  return (BigInt(`0x${text.slice(0, slash)}`) << 32n) | BigInt(`0x${text.slice(slash + 1)}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
