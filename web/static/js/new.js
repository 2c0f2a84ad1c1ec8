// New interview: send the form to POST /api/sessions as multipart, show the server's field
// errors next to their fields (and in a summary), then open the interview room.

import { api, ApiError, el } from "./api.js";

const form = document.getElementById("new-session-form");
const status = document.getElementById("form-status");
const button = document.getElementById("start-button");
const summary = document.getElementById("error-summary");
const summaryList = document.getElementById("error-summary-list");

// Errors without a field of their own that still belong to one.
const CODE_FIELDS = { unsupported_media_type: "cv", payload_too_large: "cv" };
const FIELD_TARGETS = { cv: "cv_file" };

function fieldErrors(error) {
  const fields = error.details && error.details.fields;
  const out = {};
  if (Array.isArray(fields)) {
    // Litestar's own validation errors: [{key, message, source}]
    for (const item of fields) if (item && item.key) out[item.key] = item.message || error.message;
  } else if (fields && typeof fields === "object") {
    Object.assign(out, fields);
  }
  if (!Object.keys(out).length && CODE_FIELDS[error.code]) out[CODE_FIELDS[error.code]] = error.message;
  return out;
}

function clearErrors() {
  summary.hidden = true;
  summaryList.replaceChildren();
  for (const slot of form.querySelectorAll(".field-error")) {
    slot.hidden = true;
    slot.textContent = "";
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

function showErrors(errors, general) {
  const entries = Object.entries(errors);
  for (const [name, message] of entries) {
    const slot = document.getElementById(`${name}-error`);
    if (slot) {
      slot.textContent = message;
      slot.hidden = false;
    }
    const field = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (field) {
      for (const input of field.querySelectorAll("input, textarea")) input.setAttribute("aria-invalid", "true");
    }
  }
  const items = entries.length ? entries : [[null, general]];
  for (const [name, message] of items) {
    const li = el("li");
    const targetId = name && (FIELD_TARGETS[name] || name);
    if (targetId && document.getElementById(targetId)) {
      const link = el("a", null, message);
      link.href = `#${targetId}`;
      link.addEventListener("click", (event) => {
        event.preventDefault();
        document.getElementById(targetId).focus();
      });
      li.append(link);
    } else {
      li.textContent = message;
    }
    summaryList.append(li);
  }
  summary.hidden = false;
  summary.focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (button.getAttribute("aria-disabled") === "true") return;
  clearErrors();
  button.setAttribute("aria-disabled", "true");
  status.textContent = "Setting up your interview…";
  try {
    const data = new FormData(form);
    // A chosen file wins over pasted (or prefilled) text, as the hint says.
    if (form.elements.cv_file.files.length) data.delete("cv_text");
    const session = await api("POST", "/api/sessions", data);
    status.textContent = "Ready. Opening the interview room…";
    window.location.assign(`/sessions/${encodeURIComponent(session.id)}`);
  } catch (error) {
    status.textContent = "";
    button.removeAttribute("aria-disabled");
    if (error instanceof ApiError) {
      showErrors(fieldErrors(error), error.message);
    } else {
      showErrors({}, "Something went wrong in the page. Please try again.");
      throw error;
    }
  }
});
