// Renders what a task changed: the per-file counts and the unified diff. The diff
// is the agent's output, so every line becomes a text node inside its own span.
// Each line of a hunk carries where it is (data-file, data-side "new" or "old",
// data-line), so review comments can be made on it and shown under it.

import { h } from "./dom.js";

const MAX_LINES = 5000; // a browser stays responsive; the rest is a note, not a hang
const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

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
  let file = null;
  let oldNo = 0;
  let newNo = 0;
  return h("pre", { class: "diff", tabindex: 0, "aria-label": "Unified diff" },
    shown.map((line) => {
      // Between "diff --git" and the first "@@" every line is a file header; only
      // there do "--- a/x" and "+++ b/x" name files rather than remove or add lines.
      const starts = line.startsWith("diff ");
      if (starts) {
        inHeader = true;
        file = null;
      } else if (line.startsWith("@@")) {
        inHeader = false;
        const match = HUNK.exec(line) || [];
        // An empty side names the line before the hunk: it starts one further on.
        oldNo = Number(match[1]) + (match[2] === "0" ? 1 : 0);
        newNo = Number(match[3]) + (match[4] === "0" ? 1 : 0);
      } else if (inHeader && /^(---|\+\+\+) /.test(line)) {
        const name = gitPath(line.slice(4).replace(/\t$/, ""));
        if (name !== "/dev/null") file = name.replace(/^[ab]\//, "");
      }
      const kind = starts ? "meta file" : inHeader ? "meta" : lineClass(line);
      if (!file || !["add", "del", "ctx"].includes(kind) || line.startsWith("\\")) {
        return h("span", { class: kind }, line, "\n");
      }
      const side = kind === "del" ? "old" : "new";
      const number = side === "old" ? oldNo : newNo;
      if (kind !== "add") oldNo++;
      if (kind !== "del") newNo++;
      return h("span", { class: `${kind} line`, "data-file": file, "data-side": side,
        "data-line": number, title: `${file}:${number}` }, line, "\n");
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

// git C-quotes unusual file names ("t\303\245b.py"); the API takes them as they are.
function gitPath(name) {
  if (!(name.length >= 2 && name.startsWith('"') && name.endsWith('"'))) return name;
  const escapes = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13 };
  const bytes = [];
  const body = name.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== "\\") {
      bytes.push(...new TextEncoder().encode(body[i]));
    } else if (/[0-7]/.test(body[i + 1])) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      const next = body[++i];
      bytes.push(escapes[next] ?? next.charCodeAt(0));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
