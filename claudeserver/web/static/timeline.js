// One timeline entry per interaction. Denied permissions get their own loud
// style and wording; a follow-up request, which starts another round of the
// task, stands out as a divider; long tool output is folded away.

import { h, when } from "./dom.js";

const LABELS = {
  "assistant text": "Assistant",
  "assistant tool_use": "Tool call",
  "assistant result": "Turn result",
  "assistant error": "Agent error",
  "tool tool_result": "Tool output",
  "tool tool_error": "Tool error",
  "permission allow": "Permission allowed",
  "permission deny": "PERMISSION DENIED",
  "human prompt": "Simulated human: prompt",
  "human continuation": "Simulated human",
  "human answer": "Simulated human: answer",
  "user message": "You",
  "user follow_up": "You: follow-up request",
  "user comment": "You: review comment",
  "system comment": "Review comments",
  "test test_result": "Test",
  "test baseline": "Tests before the task",
  "test round": "Test round",
  "system status": "Status",
  "system progress": "Progress",
  "system compaction": "Claude Code compacted the conversation",
  "system context_restart": "Fresh conversation (context window full)",
  "permission approval_request": "WAITING FOR APPROVAL",
  "user approval": "You: approval",
  "human approval": "Simulated human: approval",
  "system approval": "Approval expired",
};

// Verdicts worth a word next to a test's result (see the task's test table).
const NOTED_VERDICTS = new Set(["regression", "pre_existing", "fixed", "flaky"]);

const FOLD_AT = 400; // characters; longer content starts collapsed

export function timelineEntry(item) {
  const key = `${item.role} ${item.kind}`;
  const label = LABELS[key] || `${item.role} · ${item.kind}`;
  const classes = ["entry", `role-${cssName(item.role)}`, `kind-${cssName(item.kind)}`];
  if (item.kind === "deny") classes.push("deny");
  // A test failing before the task already is no alarm.
  if (item.kind === "test_result" && item.data && item.data.status !== "passed"
    && item.data.verdict !== "pre_existing") {
    classes.push("test-failed");
  }
  return h("li", { class: classes.join(" "), "data-sequence": item.sequence },
  h("div", { class: "entry-head" },
    h("span", { class: "entry-label" }, label),
    h("time", { datetime: item.created_at }, when(item.created_at))),
  body(item));
}

function body(item) {
  const data = item.data || {};
  switch (item.kind) {
    case "tool_use":
      return [h("strong", {}, item.content), input(data.input)];
    case "allow": // the input is in the tool call just above
      return h("p", {}, h("strong", {}, data.tool || "tool"), ": ", item.content);
    case "deny":
      return [
        h("p", {}, h("strong", {}, data.tool || "tool"), data.category ? ` (${data.category})` : ""),
        input(data.input),
        h("p", { class: "reason" }, "Reason: ", item.content),
      ];
    case "approval_request":
      return [input(data.input), h("p", { class: "reason" }, item.content)];
    case "status":
      return h("p", {}, `→ ${item.content}`, data.progress ? ` — ${data.progress}` : "");
    case "test_result":
      return h("p", { class: "mono" }, item.content, data.type ? ` [${data.type}]` : "",
        NOTED_VERDICTS.has(data.verdict) ? ` (${data.verdict.replace("_", "-")})` : "");
    case "result":
      return [folded(item.content), data.cost_usd === undefined ? null
        : h("p", { class: "muted" }, `cost so far $${Number(data.cost_usd).toFixed(4)}`)];
    default:
      return folded(item.content);
  }
}

// Shows a tool's input: the command or file when there is one, then the rest as JSON.
function input(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === "object" && typeof value.command === "string") {
    return h("pre", { class: "command" }, "$ ", value.command);
  }
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return folded(text);
}

function folded(text) {
  if (!text) return null;
  if (text.length <= FOLD_AT) return h("pre", {}, text);
  return h("details", {},
    h("summary", {}, `${text.slice(0, 120).replace(/\s+/g, " ")}… (${text.length} characters)`),
    h("pre", {}, text));
}

function cssName(value) {
  return String(value).replace(/[^a-z0-9_-]/gi, "_");
}
