// Builds elements from trusted structure and untrusted text: strings only ever
// become text nodes or attribute values, never markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// The server stores naive UTC timestamps; mark them UTC before the browser
// reads them as local time.
export function when(iso) {
  if (!iso) return "";
  const text = /[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`;
  return new Date(text).toLocaleString();
}

export function money(value) {
  return `$${Number(value || 0).toFixed(4)}`;
}

// Statuses a task never leaves (except by an explicit retry).
export const TERMINAL = new Set(["completed", "failed", "cancelled"]);

export function badge(status) {
  return h("span", { class: `badge status-${status}` }, status);
}

// `fn` runs once, `delay` ms after it is first asked for; requests until then join that
// run, so a steady stream of them can never put it off.
export function coalesced(fn) {
  let timer = null;
  return {
    schedule(delay) {
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        fn();
      }, delay);
    },
    cancel() {
      clearTimeout(timer);
      timer = null;
    },
  };
}
