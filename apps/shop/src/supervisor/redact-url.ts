/** A URL fit to print: its password, if any, replaced by `***` (the user name stays, it helps). */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password === '') return text;
    url.password = '***';
    return url.toString();
  } catch {
    return text; // not a URL: nothing to hide that we could find
  }
}
