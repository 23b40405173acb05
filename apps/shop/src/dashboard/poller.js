// Panels whose answers come from HTTP reads rather than the live feed: read while the panel is on
// screen, every `everyMs`, and redraw a part only when its answer changed.

/**
 * Calls `read` now and every `everyMs` while `section` is on screen. Answers `refresh`, which
 * reads at once (after a button's action) and keeps the rhythm.
 */
export function pollWhileOnScreen(section, read, everyMs) {
  let timer = null;
  let onScreen = false;
  async function refresh() {
    clearTimeout(timer);
    timer = null;
    await read();
    if (onScreen && timer === null) timer = setTimeout(() => void refresh(), everyMs);
  }
  new IntersectionObserver((entries) => {
    onScreen = entries.some((entry) => entry.isIntersecting);
    if (onScreen) void refresh();
  }).observe(section);
  return { refresh };
}

/** Calls `render` unless `answer` is what was last drawn for `part`. */
export function drawer() {
  const drawn = new Map();
  return (part, answer, render) => {
    const json = JSON.stringify(answer);
    if (drawn.get(part) === json) return;
    drawn.set(part, json);
    render();
  };
}
