// The app's own behaviour on top of Turbo: plain JavaScript, no build step. Edit freely.
//
// Optimistic creates. A form that creates a record whose DOM id the page knows in advance (its
// `data-optimistic-id`, from the client id the form carries) shows the record at once, marked as
// pending, in the list named by the enclosing `data-optimistic-list`. The reply and the broadcast
// render the record's partial under that same id, and Turbo replaces an element whose id is
// already on the page instead of adding a second one, so the pending copy becomes the real one.
document.addEventListener("turbo:submit-start", (event) => {
  const form = event.target;
  const id = form.dataset.optimisticId;
  const section = form.closest("[data-optimistic-list]");
  const list = section && document.getElementById(section.dataset.optimisticList);
  if (!id || !list || document.getElementById(id)) return;

  const record = document.createElement("div");
  record.id = id;
  record.className = "record pending";
  record.setAttribute("aria-busy", "true");
  const fields = document.createElement("dl");
  fields.className = "record-fields";
  for (const field of form.querySelectorAll(".field")) {
    const input = field.querySelector("input:not([type=hidden]), textarea, select");
    const label = field.querySelector("label");
    if (!input || !label) continue;
    const name = document.createElement("dt");
    name.textContent = label.textContent.trim();
    const value = document.createElement("dd");
    // textContent, never innerHTML: what the user typed is shown as text.
    value.textContent = input.type === "checkbox" ? (input.checked ? "Yes" : "No") : input.value;
    fields.append(name, value);
  }
  record.append(fields);
  if (section.dataset.optimisticInsert === "prepend") list.prepend(record);
  else list.append(record);
});

// A create the server refused (the form now shows why) takes its pending copy away again.
document.addEventListener("turbo:submit-end", (event) => {
  const id = event.target.dataset.optimisticId;
  if (id && !event.detail.success) document.getElementById(id)?.remove();
});

// A refresh morphs the page into what the server renders now. A field the user has typed in
// keeps what they typed: an unsent draft is theirs, not the server's.
document.addEventListener("turbo:before-morph-element", (event) => {
  const field = event.target;
  const edited =
    field instanceof HTMLTextAreaElement ||
    (field instanceof HTMLInputElement && field.type !== "hidden")
      ? field.value !== field.defaultValue || field.checked !== field.defaultChecked
      : false;
  if (edited) event.preventDefault();
});

// Lazy frames marked `data-reload-on-stream` (the count beside a live list) reload once a burst
// of Turbo Streams has changed the page. The browser revalidates with `If-None-Match`, so a frame
// whose content did not change costs a `304 Not Modified` and no markup.
let reload = null;
document.addEventListener("turbo:before-stream-render", () => {
  clearTimeout(reload);
  reload = setTimeout(() => {
    for (const frame of document.querySelectorAll("turbo-frame[data-reload-on-stream][complete]")) {
      frame.reload();
    }
  }, 100);
});

// Pagination. A list shows its newest page; the frame of the page before it (`.earlier`) comes
// from the server inert, a link to that page, and is made a lazy frame here only once the list
// is in place, so it loads as the reader reaches it and never before. A list that grows at its
// end (a chat) shows its page oldest first with that frame on top, and opens scrolled to its
// newest record, so earlier pages load one at a time as the reader scrolls up.
function scrollToEnd(root) {
  for (const list of root.querySelectorAll("[data-scroll-to-end]")) {
    list.lastElementChild?.scrollIntoView({ block: "end" });
  }
}
function loadEarlierPagesLazily(root) {
  for (const frame of root.querySelectorAll("turbo-frame.earlier[data-src]")) {
    frame.setAttribute("loading", "lazy");
    frame.src = frame.dataset.src;
    delete frame.dataset.src;
  }
}
// Only a visit to a new page scrolls: a refresh that morphs the page, or going back to it,
// keeps the reader where they were.
let scrollOnLoad = true;
document.addEventListener("turbo:visit", (event) => {
  scrollOnLoad = event.detail.action === "advance";
});
document.addEventListener("turbo:load", () => {
  if (scrollOnLoad) scrollToEnd(document);
  loadEarlierPagesLazily(document);
});
// A list loaded into its parent's page (a room's messages) opens the same way; an earlier page
// loading above the reader leaves the scroll where it is.
document.addEventListener("turbo:frame-load", (event) => {
  if (!event.target.classList.contains("earlier")) scrollToEnd(event.target);
  loadEarlierPagesLazily(event.target);
});
// An earlier page that loads above what the reader is looking at keeps that in view: the window
// scrolls by as much as the new page pushed it down, in the same task as the page is put in, so
// the new page's own earlier frame is out of view and waits until the reader scrolls up to it.
// Browsers anchor the scroll this way themselves, except at the very top of the page, where each
// page would otherwise show the frame of the one before it and load the whole list in a chain.
document.addEventListener("turbo:before-frame-render", (event) => {
  const frame = event.target;
  const below = frame.classList.contains("earlier") && frame.nextElementSibling;
  if (!below) return;
  const render = event.detail.render;
  event.detail.render = (current, next) => {
    const top = below.getBoundingClientRect().top;
    render(current, next);
    window.scrollBy(0, below.getBoundingClientRect().top - top);
  };
});

// Upload progress. Turbo submits forms with `fetch`, which reports nothing while a request body
// is sent, so a form marked `data-upload-progress` (one with file inputs) that carries more than
// a megabyte is sent with XMLHttpRequest instead, which does: a <progress> bar next to the submit
// button fills as the bytes go out. The answer is handled as Turbo would: a Turbo Stream is
// rendered, a redirect is visited, and any other page (an error) replaces this one.
const LARGE_UPLOAD_BYTES = 1024 * 1024;
document.addEventListener(
  "submit",
  (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload-progress")) return;
    let bytes = 0;
    for (const input of form.querySelectorAll('input[type="file"]')) {
      for (const file of input.files) bytes += file.size;
    }
    if (bytes < LARGE_UPLOAD_BYTES || !window.Turbo) return;
    // Turbo leaves a submission whose default was prevented to its page.
    event.preventDefault();
    const progress = document.createElement("progress");
    progress.className = "upload-progress";
    progress.max = bytes;
    progress.value = 0;
    (form.querySelector(".form-actions") || form).append(progress);
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "text/vnd.turbo-stream.html, text/html, application/xhtml+xml");
    request.upload.addEventListener("progress", (sent) => {
      progress.value = sent.loaded;
    });
    request.addEventListener("load", () => {
      progress.remove();
      const type = request.getResponseHeader("Content-Type") || "";
      if (type.startsWith("text/vnd.turbo-stream.html")) {
        window.Turbo.renderStreamMessage(request.responseText);
      } else if (request.responseURL && new URL(request.responseURL).pathname !== new URL(form.action).pathname) {
        window.Turbo.visit(request.responseURL);
      } else {
        document.open();
        document.write(request.responseText);
        document.close();
      }
    });
    request.addEventListener("error", () => {
      progress.remove();
      form.querySelector(".form-actions")?.append(Object.assign(document.createElement("p"), {
        className: "field-error",
        textContent: "The upload failed. Check the connection and try again.",
      }));
    });
    request.send(new FormData(form, event.submitter));
  },
  // In the capture phase, before Turbo's own listener sees the submission.
  true,
);
