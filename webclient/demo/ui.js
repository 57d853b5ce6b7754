// What every screen of the demo shares: one visible step at a time, the
// status line, and fields that say what is wrong with them.
export const $ = (id) => document.getElementById(id);

// The steps of the page: one is shown, the others hidden.
const sections = ["login", "register", "ask-code", "confirm", "confirmed", "issue", "no-agent", "choose", "working", "done"];

// show shows one step and moves the focus to its heading, so that a screen
// reader says where the person now is.
export function show(id) {
  for (const s of sections) $(s).hidden = s !== id;
  document.querySelector("main").classList.toggle("wide", id === "done");
  const h = $(id).querySelector("h1");
  if (h) {
    h.tabIndex = -1;
    h.focus();
  }
}

// status: kind true marks an error, "notice" what the person is about to
// be asked.
export function status(text, kind) {
  $("status").textContent = text || "";
  $("status").className = "status" + (kind === true ? " error" : kind ? " " + kind : "");
}

// fieldError marks input as wrong with text (or clears it): the text below
// the field, named by aria-describedby so that a screen reader reads it
// with the field.
export function fieldError(input, text) {
  const box = input.closest(".password") || input;
  let note = box.parentElement.querySelector(`.field-error[data-for="${input.name}"]`);
  if (!note) {
    note = document.createElement("span");
    note.className = "field-error";
    note.dataset.for = input.name;
    note.id = (input.id || input.name) + "-error";
    box.after(note);
  }
  note.textContent = text;
  input.setAttribute("aria-invalid", text ? "true" : "false");
  const described = (input.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== note.id);
  if (text) described.push(note.id);
  if (described.length) input.setAttribute("aria-describedby", described.join(" "));
  else input.removeAttribute("aria-describedby");
}

export function date(s) {
  return new Date(s).toLocaleDateString("ru-RU");
}

// el makes an element with a class and text (text as text, never HTML).
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

// askUnlink asks once more, in place of a linked item's buttons, whether
// to unlink it: «Оставить» calls keep, «Отвязать» calls unlink, whose
// failure is shown.
export function askUnlink(li, question, keep, unlink) {
  const actions = li.querySelector(".linked-actions");
  actions.replaceChildren();
  const q = el("span", "ask", question);
  const yes = el("button", "danger", "Отвязать");
  yes.type = "button";
  const no = el("button", "", "Оставить");
  no.type = "button";
  actions.append(q, yes, no);
  yes.focus();
  no.addEventListener("click", keep);
  yes.addEventListener("click", async () => {
    try {
      await unlink();
    } catch (err) {
      status(err.message, true);
    }
  });
}

