// The reviewer's findings: one item per finding, worst first, each with a
// severity badge (the word, not only a colour), its place in the code and comment.

import { h } from "./dom.js";

const ORDER = { error: 0, warning: 1, info: 2 };

export function findingsList(findings) {
  const sorted = [...findings].sort((a, b) =>
    (ORDER[a.severity] ?? 2) - (ORDER[b.severity] ?? 2));
  return h("ul", { class: "findings" }, sorted.map((f) => {
    const severity = ORDER[f.severity] === undefined ? "info" : f.severity;
    return h("li", { class: `finding finding-${severity}` },
      h("span", { class: `badge severity-${severity}` }, severity),
      f.file ? h("span", { class: "mono where" }, f.line ? `${f.file}:${f.line}` : f.file) : null,
      h("p", {}, f.comment));
  }));
}
