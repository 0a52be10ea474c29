// Renders what a task changed: the per-file counts and the unified diff. The diff
// is the agent's output, so every line becomes a text node inside its own span.

import { h } from "./dom.js";

const MAX_LINES = 5000; // a browser stays responsive; the rest is a note, not a hang

export function fileTable(files) {
  return h("table", { class: "files" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "File"),
      h("th", { scope: "col", class: "num" }, "Added"),
      h("th", { scope: "col", class: "num" }, "Removed"))),
    h("tbody", {}, files.map((f) => h("tr", {},
      h("td", { class: "mono" }, f.path),
      // git reports no line counts for binary files
      f.added === null ? h("td", { class: "num muted", colspan: 2 }, "binary")
        : [h("td", { class: "num added" }, `+${f.added}`),
          h("td", { class: "num removed" }, `−${f.removed}`)]))));
}

export function diffText(text) {
  const lines = text.replace(/\n$/, "").split("\n");
  const shown = lines.slice(0, MAX_LINES);
  let inHeader = false;
  return h("pre", { class: "diff", tabindex: 0, "aria-label": "Unified diff" },
    shown.map((line) => {
      // Between "diff --git" and the first "@@" every line is a file header; only
      // there do "--- a/x" and "+++ b/x" name files rather than remove or add lines.
      const starts = line.startsWith("diff ");
      if (starts) inHeader = true;
      else if (line.startsWith("@@")) inHeader = false;
      const kind = starts ? "meta file" : inHeader ? "meta" : lineClass(line);
      return h("span", { class: kind }, line, "\n");
    }),
    lines.length > shown.length
      ? h("span", { class: "muted" }, `… ${lines.length - shown.length} more lines not shown`)
      : null);
}

function lineClass(line) {
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  return "ctx";
}
