/**
 * Picks out of a dead child's output the lines that say why it died. Node prints an uncaught
 * error as the throwing source line, a caret, `Name: message`, the stack, the error's properties
 * and causes, then `Node.js v20...`: the name and message, the first frame in our own code and the
 * first cause are what a person needs; the rest is noise that hides them.
 */

// `Error: ...`, `TypeError [ERR_X]: ...`, `TransportUnavailableError: ...`, at the start of a line.
const errorHeader = /^[\w$]*(?:Error|Exception)(?: \[[^\]]*\])?:/;
const stackFrame = /^\s+at \S/;
const causeLine = /^\s+\[cause\]: /;
const maxMessageLines = 8;

/**
 * The error the output ends with: its `Name: message` lines, where it was thrown (the first
 * stack frame outside Node and node_modules) and its first cause. Output without a recognisable
 * error (a service that printed its own message and exited) gives its last `maxLines` lines.
 */
export function summarizeChildError(output: string, maxLines = 5): string[] {
  const lines = output
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '' && !/^Node\.js v\d/.test(line));
  let header = lines.length - 1;
  while (header >= 0 && !errorHeader.test(lines[header]!)) header--;
  if (header < 0) return lines.slice(-maxLines);

  const rest = lines.slice(header + 1);
  const messageTail = takeUntil(rest, (line) => stackFrame.test(line) || /^\s*[{}]/.test(line));
  const message = [lines[header]!, ...messageTail].slice(0, maxMessageLines);
  // The error's own frames only, not those of its causes, which follow its properties.
  const stack = takeUntil(rest.slice(messageTail.length), (line) => !stackFrame.test(line));
  const ownFrame = stack.find((line) => !/[( ]node:|node_modules/.test(line));
  const cause = rest.find((line) => causeLine.test(line));
  return [
    ...message,
    ...(ownFrame ? [`  ${ownFrame.trim().replace(/ \{$/, '')}`] : []),
    ...(cause ? [`  ${cause.trim()}`] : []),
  ];
}

/** The lines before the first one that ends the run (all of them when none does). */
function takeUntil(lines: readonly string[], isEnd: (line: string) => boolean): string[] {
  const end = lines.findIndex(isEnd);
  return lines.slice(0, end < 0 ? lines.length : end);
}
