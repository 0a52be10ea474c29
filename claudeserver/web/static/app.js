// Hash router: #/ sessions, #/sessions/ID a session's tasks, #/tasks/ID one task,
// #/board every task by status.
// Each view returns a dispose function that closes its event streams.

import { takeTokenFromAddress, token } from "./api.js";
import { boardView } from "./board.js";
import { permissionButton } from "./notifications.js";
import { sessionsView } from "./sessions.js";
import { sessionView } from "./session.js";
import { taskView } from "./task.js";

const main = document.getElementById("main");
const notice = document.getElementById("notice");
let dispose = () => {};
let carried = ""; // a notice for the next view, such as "Task deleted."

export function notify(message, isError = false) {
  notice.textContent = message;
  notice.classList.toggle("error", isError);
  notice.hidden = !message;
}

export function showError(error) {
  notify(error.message || String(error), true);
  if (error.status === 401) document.getElementById("token").focus();
}

// Opens another view and says `message` there (a plain notify would be cleared).
export function go(hash, message = "") {
  carried = message;
  if (location.hash === hash) route();
  else location.hash = hash;
}

function route() {
  dispose();
  notify(carried);
  carried = "";
  const [, kind, id] = location.hash.replace(/^#/, "").split("/");
  const context = { main, notify, showError, go };
  if (kind === "board") dispose = boardView(context);
  else if (kind === "sessions" && id) dispose = sessionView(decodeURIComponent(id), context);
  else if (kind === "tasks" && id) dispose = taskView(decodeURIComponent(id), context);
  else dispose = sessionsView(context);
  main.focus({ preventScroll: true });
  // The header link of the view on screen says so.
  const current = kind === "board" ? "#/board" : kind ? null : "#/";
  for (const link of document.querySelectorAll(".top nav a:not(.brand)")) {
    if (link.getAttribute("href") === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

takeTokenFromAddress();
document.querySelector(".top").append(permissionButton());
const tokenInput = document.getElementById("token");
tokenInput.value = token.get();
document.getElementById("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  token.set(tokenInput.value.trim());
  route(); // reload the view with the new token
  notify(token.get() ? "Token saved for this browser tab." : "Token cleared.");
});

window.addEventListener("hashchange", route);
route();
