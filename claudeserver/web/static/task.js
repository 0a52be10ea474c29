// One task: header, counters, actions, the test table, review findings, the
// changes and the live timeline. The timeline grows from the task's event stream;
// counters, tests and changes are re-read after the events that change them (a
// turn's result, a status change). One text box talks to the agent: a message
// while the task is active, a follow-up request (another round in the same
// workspace and conversation) once it has finished. Review comments on the diff
// go back to the agent as such a round too.

import { call, stream } from "./api.js";
import { approvalsPanel } from "./approvals.js";
import { changesSection } from "./changes.js";
import { TERMINAL, badge, h, money, replace, when } from "./dom.js";
import { findingsList } from "./findings.js";
import { notifyOf } from "./notifications.js";
import { timelineEntry } from "./timeline.js";

const ACTIVE = new Set(["running", "paused", "testing"]);
const FAILING = new Set(["failed", "error"]);
const VERDICT_ORDER = { pre_existing: 1, flaky: 2, fixed: 3, new: 4, ok: 4 };
// What each verdict means, as a tooltip.
const VERDICTS = {
  regression: "passed before the task and does not pass now",
  pre_existing: "was already failing before the task",
  fixed: "failed before the task and passes now",
  flaky: "failed, then passed when re-run on its own",
  new: "not in the project's tests before the task",
  ok: "passed before and after",
};

function seconds(value) {
  return `${value.toFixed(2)} s`;
}

export function taskView(taskId, { main, notify, showError, go }) {
  const path = `/api/v1/tasks/${encodeURIComponent(taskId)}`;
  let task = null;
  let lastSequence = 0;
  let liveFrom = Infinity; // events after this sequence happen now (not replayed history)
  let source = null;
  let refresh = null;
  let closed = false; // the view was left (or its task deleted): late answers are dropped
  let shown = null; // the status on screen, which the events keep newer than `task`
  let sending = false; // a message or follow-up on its way: one at a time
  const openOutputs = new Set(); // test ids whose output the user expanded

  const title = h("h1", { class: "clamp" }, "Task");
  const status = h("span", { id: "task-status", "aria-live": "polite" });
  const progress = h("p", { id: "task-progress", class: "progress" });
  const summary = h("div", { id: "task-summary" });
  const stats = h("dl", { id: "task-stats", class: "stats" });
  const denials = h("p", { id: "denials", class: "denial-banner", role: "alert", hidden: true });
  const tests = h("div", { id: "tests", class: "table-wrap" });
  const findings = h("div", { id: "findings" });
  const review = h("section", { "aria-labelledby": "review-h", hidden: true },
    h("h2", { id: "review-h" }, "Review findings"), findings);
  const changes = changesSection(path, { notify, showError,
    onWorkspaceRemoved: () => scheduleRefresh(),
    onQueued: (next) => {
      // Sent comments start a round, as a follow-up does; its events come on the stream.
      if (closed) return;
      renderTask({ ...task, ...next });
    },
  });
  const approvals = approvalsPanel(`${path}/approvals`, { notify, showError });
  const timeline = h("ol", { id: "timeline", class: "timeline" });
  const cancel = h("button", { type: "button", onclick: doCancel }, "Cancel");
  const retry = h("button", { type: "button", onclick: doRetry }, "Retry");
  const remove = h("button", { type: "button", class: "danger", onclick: doDelete,
    hidden: true }, "Delete task");
  const message = h("textarea", { id: "message", rows: 2, required: true,
    "aria-describedby": "message-hint" });
  const messageLabel = h("label", { for: "message" }, "Message to the agent");
  const messageHint = h("p", { id: "message-hint", class: "muted hint" });
  const send = h("button", { type: "submit" }, "Send message");
  const back = h("a", { href: "#/" }, "← Sessions");

  replace(main, back, title,
    h("div", { class: "row status-row" }, status, progress),
    approvals.element, denials, summary, stats,
    h("div", { class: "row actions" }, cancel, retry, remove),
    h("form", { id: "message-form", class: "stack", onsubmit: doSend },
      messageLabel, message, messageHint, h("div", {}, send)),
    h("section", { "aria-labelledby": "tests-h" }, h("h2", { id: "tests-h" }, "Tests"), tests),
    review, changes.element,
    h("section", { "aria-labelledby": "timeline-h" },
      h("h2", { id: "timeline-h" }, "Timeline"), timeline));

  function renderTask(next) {
    task = next;
    back.setAttribute("href", `#/sessions/${encodeURIComponent(task.session_id)}`);
    replace(back, "← Session");
    replace(title, task.description);
    renderStatus(task.status, task.progress);
    replace(summary,
      task.summary ? h("pre", { class: "summary" }, task.summary) : null,
      task.error && !(task.summary || "").includes(task.error)
        ? h("pre", { class: "error" }, task.error) : null);
    const s = task.test_summary;
    const ws = task.workspace || {};
    replace(stats, [
      ["Cost", money(task.cost_usd)],
      ["Cost by model", modelCosts(task.model_costs)],
      ["Tokens", `${task.input_tokens} in / ${task.output_tokens} out`],
      ["Iterations", `${task.iterations}${task.max_iterations ? ` of ${task.max_iterations}` : ""}`],
      ["Pauses", task.pauses],
      ["Context restarts", task.context_restarts],
      ["Test rounds", roundsText(task)],
      ["Tests", testsText(s)],
      ["Baseline run", task.baseline_duration == null ? "—" : seconds(task.baseline_duration)],
      ["Model", task.model || "default"],
      ["Attempt", `${task.attempt} (${task.resumes} ${task.resumes === 1 ? "resume" : "resumes"})`],
      ["Worker", task.worker ? h("span", { class: "mono" }, task.worker) : "—"],
      // A task in a plain folder works in place: there is no branch to name.
      ["Branch", ws.branch ? h("span", { class: "mono" }, ws.branch)
        : ws.kind === "snapshot" ? "none (in place)" : "—"],
      ["Base branch", ws.base_branch ? h("span", { class: "mono" }, ws.base_branch) : "—"],
      ["Created", when(task.created_at)],
      ["Finished", when(task.completed_at) || "—"],
    ].map(([name, value]) => h("div", {}, h("dt", {}, name), h("dd", {}, value))));
    renderTests(task.test_cases);
    review.hidden = !task.review_findings;
    if (task.review_findings) {
      replace(findings, task.review_findings.length
        ? findingsList(task.review_findings, { onComment: commentOnFinding })
        : h("p", {}, "The review found nothing worth mentioning."));
    }
    changes.update(task);
  }

  async function commentOnFinding(index, button) {
    button.disabled = true;
    try {
      const made = await call("POST", `${path}/comments`, { from_finding: index });
      notify(`Comment added on ${made.file}:${made.line}.`);
      changes.refreshComments();
    } catch (error) {
      showError(error); // 422: its line is not in the file any more
      button.disabled = false;
    }
  }

  function testsText(s) {
    const parts = [`${s.passed} passed`, `${s.failed} failed`, `${s.pending} pending`];
    if (s.pre_existing) parts.push(`${s.pre_existing} already failing before the task`);
    if (s.fixed) parts.push(`${s.fixed} fixed`);
    if (s.flaky) parts.push(`${s.flaky} flaky`);
    return parts.join(", ");
  }

  function roundsText(t) {
    const last = (t.round_durations || []).at(-1);
    return last == null ? `${t.test_rounds}` : `${t.test_rounds} (last ${seconds(last)})`;
  }

  function modelCosts(costs) {
    const entries = Object.entries(costs || {});
    if (!entries.length) return "—";
    return entries.map(([model, cost]) =>
      h("span", { class: "model-cost" }, h("span", { class: "mono" }, model), ` ${money(cost)}`));
  }

  function renderStatus(value, progressText) {
    replace(status, badge(value));
    replace(progress, progressText || "");
    cancel.disabled = TERMINAL.has(value);
    retry.disabled = !(value === "failed" || value === "cancelled");
    shown = value;
    renderComposer();
    remove.hidden = !TERMINAL.has(value); // the server refuses to delete a task still going
  }

  // A message needs the agent at work; a follow-up a finished task whose workspace is
  // still there (the server says so too, with a 409).
  function finished() {
    return TERMINAL.has(shown);
  }

  function renderComposer() {
    const removed = Boolean(task && task.workspace_removed_at);
    replace(messageLabel, finished() ? "Follow-up request" : "Message to the agent");
    replace(send, finished() ? "Follow up" : "Send message");
    replace(messageHint, !finished()
      ? (ACTIVE.has(shown) ? "" : "Messages reach the agent once it is running.")
      : removed ? "Its workspace was removed, so this task cannot continue: submit a new task."
        : "The agent continues this task in the same workspace and conversation.");
    messageHint.hidden = !messageHint.textContent;
    send.disabled = sending || (finished() ? removed : !ACTIVE.has(shown));
  }

  function renderTests(cases) {
    if (!cases.length) return replace(tests, h("p", {}, "No test results yet."));
    // What the agent must fix first, then what it did not cause, then the rest.
    const rank = (c) => c.verdict === "regression" || (c.verdict === "new" && FAILING.has(c.status))
      ? 0 : VERDICT_ORDER[c.verdict] ?? 5;
    const sorted = [...cases].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
    replace(tests, h("table", {},
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Test"), h("th", { scope: "col" }, "Type"),
        h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Verdict"),
        h("th", { scope: "col" }, "Before the task"), h("th", { scope: "col" }, "Duration"))),
      h("tbody", {}, sorted.map((c) => h("tr",
        { class: `test test-${c.status} judged-${c.verdict}` },
        h("td", {}, testName(c)),
        h("td", {}, c.type),
        h("td", {}, badge(c.status)),
        h("td", {}, h("span", { class: `verdict verdict-${c.verdict}`, title: VERDICTS[c.verdict] },
          c.verdict.replace("_", "-"))),
        h("td", {}, c.baseline_status || "—"),
        h("td", {}, c.duration == null ? "—" : seconds(c.duration)))))));
  }

  function testName(c) {
    if (!c.output || (c.status === "passed" && !c.flaky)) {
      return h("span", { class: "mono" }, c.name);
    }
    const details = h("details", { class: "output", open: openOutputs.has(c.id) },
      h("summary", { class: "mono" }, c.name),
      h("pre", {}, c.output));
    details.addEventListener("toggle", () =>
      details.open ? openOutputs.add(c.id) : openOutputs.delete(c.id));
    return details;
  }

  function addEntry(item) {
    if (item.sequence <= lastSequence) return;
    lastSequence = item.sequence;
    timeline.append(timelineEntry(item));
    if (item.role === "permission" && item.kind === "deny") countDenials();
  }

  function countDenials() {
    const count = timeline.querySelectorAll(".entry.deny").length;
    denials.hidden = count === 0;
    replace(denials, `${count} permission ${count === 1 ? "request was" : "requests were"}`
      + " denied — see the red entries in the timeline.");
  }

  function scheduleRefresh() {
    clearTimeout(refresh);
    refresh = setTimeout(() => call("GET", path).then(
      (next) => closed || renderTask(next), (error) => closed || showError(error)), 250);
  }

  function follow() {
    if (source) source.close();
    const onEvent = (data) => {
      addEntry(data);
      if (data.sequence > liveFrom) notifyOf(data, task && task.description);
      if (data.kind === "comment") changes.refreshComments();
      if (data.kind === "status") {
        renderStatus(data.content, data.data && data.data.progress);
        scheduleRefresh();
        // Worth a look once the agent hands its work to the tests; final at the end.
        if (data.content === "testing" || TERMINAL.has(data.content)) changes.refresh();
      } else if (data.kind === "progress") {
        replace(progress, data.content);
      } else if (data.kind === "result" || data.kind === "error") {
        scheduleRefresh();
      } else if (data.kind === "approval_request" || data.kind === "approval") {
        approvals.refresh();
      }
    };
    // `follow`: a finished task still changes (comments, a retry or follow-up from elsewhere).
    source = stream(`${path}/events`, { after: lastSequence, follow: 1 }, {
      status: onEvent,
      interaction: onEvent,
      test_result: onEvent,
      approval: onEvent,
      done: (data) => {
        renderStatus(data.status, data.progress);
        scheduleRefresh();
        changes.refresh();
        approvals.refresh();
      },
    });
  }

  async function doCancel() {
    cancel.disabled = true;
    try {
      const result = await call("POST", `${path}/cancel`);
      renderStatus(result.status, result.progress);
      notify(`Task ${result.status}.`);
    } catch (error) {
      showError(error);
    }
    scheduleRefresh();
  }

  async function doRetry() {
    retry.disabled = true;
    try {
      renderTask({ ...task, ...(await call("POST", `${path}/retry`)) });
      notify("Task queued again.");
    } catch (error) {
      showError(error);
      retry.disabled = false;
    }
  }

  async function doDelete() {
    const ws = task.workspace || {};
    const kept = ws.branch ? ` Its branch ${ws.branch} stays.`
      : ws.kind === "snapshot" ? " The changes it made in the project stay." : "";
    if (!window.confirm("Delete this task?\n\nThis removes its record, timeline, tests and "
      + `workspace for good.${kept}`)) return;
    remove.disabled = true;
    try {
      await call("DELETE", path);
    } catch (error) {
      showError(error); // 409 when the task is running again (a retry meanwhile)
      remove.disabled = false;
      scheduleRefresh();
      return;
    }
    close();
    go(`#/sessions/${encodeURIComponent(task.session_id)}`, "Task deleted.");
  }

  async function doSend(event) {
    event.preventDefault();
    if (sending) return;
    const followUp = finished();
    sending = true;
    renderComposer();
    try {
      if (followUp) {
        // The task starts over: its request comes back through the event stream,
        // followed by the new round's events.
        const next = await call("POST", `${path}/follow-up`, { content: message.value });
        message.value = "";
        if (!closed) {
          renderTask({ ...task, ...next });
          notify("Follow-up queued.");
        }
      } else {
        // The message comes back through the event stream, in its place in the order.
        await call("POST", `${path}/messages`, { content: message.value });
        message.value = "";
        notify("Message sent.");
      }
    } catch (error) {
      showError(error); // 409: not (or no longer) in the right state; 422: a blank text
      scheduleRefresh();
    } finally {
      sending = false;
      renderComposer();
    }
  }

  call("GET", path).then((detail) => {
    liveFrom = detail.interactions_total;
    renderTask(detail);
    changes.refresh(); // a note when there is no workspace yet
    approvals.refresh();
    detail.interactions.forEach(addEntry);
    follow(); // replays whatever the detail capped, then follows live, finished or not
  }, showError);

  // A browser keeps ~6 connections per server: a finished task's tab in the background
  // lets go of its stream, and catches up from where it was when shown again.
  function onVisibility() {
    if (document.hidden && source && finished()) {
      source.close();
      source = null;
    } else if (!document.hidden && !source && task) {
      follow();
    }
  }
  document.addEventListener("visibilitychange", onVisibility);

  function close() {
    closed = true;
    clearTimeout(refresh);
    changes.dispose();
    document.removeEventListener("visibilitychange", onVisibility);
    if (source) source.close();
  }

  return close;
}
