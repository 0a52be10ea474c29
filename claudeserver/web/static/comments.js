// Review comments on the diff: a click on a line opens a box to comment on it,
// each comment shows under its line (or in a list when its line is not in the
// diff on screen) with Resolve / Reopen and Delete, and one button sends every
// unresolved comment to the agent as a follow-up round.

import { call } from "./api.js";
import { TERMINAL, h, replace } from "./dom.js";

// What a comment's state reads as, and why.
function state(comment) {
  if (comment.addressed) return ["addressed", "the agent changed this line in the round it was sent in"];
  if (comment.resolved) return ["resolved", "resolved"];
  if (comment.in_round) return ["sent", `sent to the agent (attempt ${comment.sent_attempt})`];
  return ["open", comment.sent_at ? "sent before; its line did not change" : "not sent yet"];
}

function place(comment) {
  return `${comment.file}:${comment.line}${comment.side === "old" ? " (before the task)" : ""}`;
}

// `onQueued` gets the task once the comments were sent.
export function commentsLayer(taskPath, { notify, showError, onQueued }) {
  const path = `${taskPath}/comments`;
  const send = h("button", { type: "button", id: "send-comments", onclick: doSend, hidden: true });
  const hint = h("p", { id: "comments-hint", class: "muted hint", hidden: true });
  const elsewhere = h("ul", { id: "comments-elsewhere", class: "comments-list" });
  const element = h("div", { id: "comments" }, h("div", { class: "row actions" }, send), hint,
    elsewhere);
  let comments = [];
  let task = null;
  let pre = null; // the diff on screen
  let draft = null; // the open comment box: {file, side, line, text}, kept across re-renders
  let sending = false;

  async function load() {
    comments = await call("GET", path);
  }

  // Shows the comments on `diff` (a pre from diffText); clicks on its lines comment.
  function decorate(diff) {
    pre = diff;
    if (pre && !pre.dataset.commentable) {
      pre.dataset.commentable = "yes";
      pre.addEventListener("click", onLineClick);
      // From the keyboard too: the diff is one tab stop, arrows move between its lines.
      pre.tabIndex = 0;
      pre.setAttribute("aria-label", "Diff: arrow keys move between lines, Enter comments on one");
      pre.addEventListener("keydown", onLineKey);
    }
    render();
    // The diff is re-read as the task goes on: a comment being written stays open.
    const span = draft && lineSpan(draft);
    if (span && !pre.querySelector(".composer")) openComposer(span, draft.text);
  }

  function lineSpan(comment) {
    if (!pre) return null;
    for (const span of pre.querySelectorAll("span.line")) {
      const d = span.dataset;
      if (d.file === comment.file && d.side === comment.side && Number(d.line) === comment.line) {
        return span;
      }
    }
    return null;
  }

  function render() {
    // An open comment box stays: the person may be typing in it.
    if (pre) for (const old of pre.querySelectorAll(".thread:not(.composer)")) old.remove();
    const byLine = new Map();
    const unplaced = [];
    for (const comment of comments) {
      const span = lineSpan(comment);
      if (!span) {
        unplaced.push(comment);
        continue;
      }
      if (!byLine.has(span)) byLine.set(span, []);
      byLine.get(span).push(comment);
    }
    for (const [span, list] of byLine) span.after(thread(list));
    replace(elsewhere, unplaced.map((c) => h("li", {}, commentItem(c, true))));
    renderSend();
  }

  function thread(list) {
    return h("span", { class: "thread" }, list.map((c) => commentItem(c, false)));
  }

  function commentItem(comment, withPlace) {
    const [word, why] = state(comment);
    const resolve = h("button", { type: "button", class: "secondary small",
      onclick: () => change(comment, { resolved: !comment.resolved }) },
    comment.resolved ? "Reopen" : "Resolve");
    const remove = h("button", { type: "button", class: "danger small",
      onclick: () => drop(comment) }, "Delete");
    return h("span", { class: `comment comment-${word}`, "data-comment-id": comment.id },
      h("span", { class: `badge comment-state state-${word}`, title: why }, word),
      comment.source === "review" ? h("span", { class: "muted" }, " from the review") : null,
      withPlace ? h("span", { class: "mono where" }, ` ${place(comment)} `) : " ",
      h("span", { class: "comment-body" }, comment.body),
      h("span", { class: "comment-actions" }, resolve, remove));
  }

  function onLineClick(event) {
    const span = event.target.closest("span.line");
    if (!span || !pre.contains(span) || String(window.getSelection() || "")) return;
    openComposer(span);
  }

  function onLineKey(event) {
    if (event.target.closest(".thread")) return; // typing in a comment box, or its buttons
    const lines = [...pre.querySelectorAll("span.line")];
    const at = lines.indexOf(event.target.closest("span.line"));
    const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (step && lines.length) {
      const next = lines[Math.min(lines.length - 1, Math.max(0, at + step))];
      next.tabIndex = -1; // focusable by script, not another tab stop
      next.focus();
      event.preventDefault();
    } else if (event.key === "Enter" && at >= 0) {
      openComposer(lines[at]);
      event.preventDefault();
    }
  }

  function openComposer(span, written = "") {
    for (const open of pre.querySelectorAll(".composer")) open.remove();
    const { file, side } = span.dataset;
    const line = Number(span.dataset.line);
    draft = { file, side, line, text: written };
    const where = `${file}:${line}${side === "old" ? " (before the task)" : ""}`;
    const text = h("textarea", { rows: 3, "aria-label": `Comment on ${where}`,
      title: "Ctrl+Enter saves, Escape cancels",
      oninput: () => { draft.text = text.value; },
      onkeydown: (event) => {
        if (event.key === "Escape") {
          close();
          span.focus();
        } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          save.click();
          event.preventDefault();
        }
      } });
    text.value = written;
    const close = () => {
      draft = null;
      box.remove();
      for (const open of pre ? pre.querySelectorAll(".composer") : []) open.remove();
    };
    const save = h("button", { type: "button", class: "small" }, "Comment");
    const cancel = h("button", { type: "button", class: "secondary small", onclick: close },
      "Cancel");
    const box = h("span", { class: "thread composer" },
      h("span", { class: "muted" }, `Comment on ${where}`), text,
      h("span", { class: "comment-actions" }, save, cancel));
    save.addEventListener("click", async () => {
      save.disabled = true;
      try {
        await call("POST", path, { file, side, line, body: text.value });
        close();
        notify(`Comment added on ${where}.`);
        await reload();
      } catch (error) {
        showError(error); // 422: a blank comment, or a line the server cannot place
        save.disabled = false;
      }
    });
    span.after(box);
    text.focus();
  }

  async function change(comment, body) {
    try {
      await call("PATCH", `${path}/${encodeURIComponent(comment.id)}`, body);
      await reload();
    } catch (error) {
      showError(error);
    }
  }

  async function drop(comment) {
    try {
      await call("DELETE", `${path}/${encodeURIComponent(comment.id)}`);
      await reload();
    } catch (error) {
      showError(error);
    }
  }

  async function reload() {
    await load();
    render();
  }

  // The send button counts what would go; it works once the task has finished.
  function update(next) {
    task = next;
    renderSend();
  }

  function renderSend() {
    const open = comments.filter((c) => !c.resolved).length;
    const finished = task && TERMINAL.has(task.status);
    send.hidden = open === 0;
    replace(send, `Send ${open} ${open === 1 ? "comment" : "comments"} to the agent`);
    send.disabled = sending || !finished;
    hint.hidden = open === 0 || Boolean(finished);
    replace(hint, "Comments can be sent once the task has finished.");
  }

  async function doSend() {
    sending = true;
    renderSend();
    try {
      const next = await call("POST", `${path}/send`);
      notify("Comments sent: the agent works on them in a new round.");
      onQueued(next);
      await reload();
    } catch (error) {
      showError(error); // 409: the task is running again, or nothing is left to send
    } finally {
      sending = false;
      renderSend();
    }
  }

  return { element, load, reload, decorate, update };
}
