// The reviewer's findings: one item per finding, worst first, each with a
// severity badge (the word, not only a colour), its place in the code and comment.
// A finding on a line can become a review comment with one click (`onComment`
// gets its index in the task's review_findings).

import { h } from "./dom.js";

const ORDER = { error: 0, warning: 1, info: 2 };

export function findingsList(findings, { onComment } = {}) {
  const sorted = findings.map((f, index) => ({ ...f, index })).sort((a, b) =>
    (ORDER[a.severity] ?? 2) - (ORDER[b.severity] ?? 2));
  return h("ul", { class: "findings" }, sorted.map((f) => {
    const severity = ORDER[f.severity] === undefined ? "info" : f.severity;
    const where = f.line ? `${f.file}:${f.line}` : f.file;
    const button = onComment && f.file && f.line ? h("button", {
      type: "button", class: "secondary small", "aria-label": `Comment on ${where}`,
      onclick: (event) => onComment(f.index, event.currentTarget),
    }, "Comment") : null;
    return h("li", { class: `finding finding-${severity}` },
      h("span", { class: `badge severity-${severity}` }, severity),
      f.file ? h("span", { class: "mono where" }, where) : null,
      button,
      h("p", {}, f.comment));
  }));
}
