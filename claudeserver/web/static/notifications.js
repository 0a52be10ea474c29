// Browser notifications for the tasks on screen (the open session's, or the open
// task): completed, failed, or waiting for a person's approval. Only while the tab
// is hidden (a visible page shows it already) and once the user allowed them.

import { h } from "./dom.js";

const WAITING = /^Waiting for approval/;
const said = new Map(); // task id -> what was last said about it: one change, one notice

function supported() {
  return "Notification" in window;
}

// The header's "Notify me" button, while the browser has not been told yes or no.
export function permissionButton() {
  const button = h("button", { type: "button", id: "notify-permission", class: "secondary",
    title: "Notify me when a task completes, fails or waits for approval while this tab is hidden",
    hidden: !(supported() && Notification.permission === "default") }, "Notify me");
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    button.hidden = Notification.permission === "default";
  });
  return button;
}

// `event` is a task's status or progress event (the event streams' data);
// `description` names the task in the notice.
export function notifyOf(event, description) {
  const what = noteworthy(event);
  if (!what || !supported() || Notification.permission !== "granted") return;
  if (document.visibilityState !== "hidden") return;
  const key = `${what.title}|${what.body}`;
  if (said.get(event.task_id) === key) return;
  said.set(event.task_id, key);
  const notice = new Notification(what.title, {
    body: [description, what.body].filter(Boolean).join("\n"),
    tag: `claudeserver-${event.task_id}`,
  });
  notice.addEventListener("click", () => {
    window.focus();
    location.hash = `#/tasks/${encodeURIComponent(event.task_id)}`;
    notice.close();
  });
}

function noteworthy(event) {
  const progress = event.kind === "status" ? event.data && event.data.progress
    : event.kind === "progress" ? event.content : null;
  if (event.kind === "status" && event.content === "completed") {
    return { title: "Task completed", body: progress || "" };
  }
  if (event.kind === "status" && event.content === "failed") {
    return { title: "Task failed", body: progress || "" };
  }
  // The approvals' hold: the task is paused with this progress line.
  if (progress && WAITING.test(progress)) return { title: "Approval waiting", body: progress };
  return null;
}
