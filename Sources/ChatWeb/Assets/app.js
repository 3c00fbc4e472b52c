// P2PChat web UI: plain JS over the local JSON API and the /ws event stream (API.md).
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  me: null,
  contacts: new Map(),          // id -> contact
  selected: null,               // contact id
  messages: new Map(),          // contact id -> { list: [message], hasMore }
  replyTo: null,                // message
  view: "empty",
  queueCounts: {},
  socket: null,
  backoff: 0,
  reconnectTimer: null,
  searchTimer: null,
};

// ---------------------------------------------------------------- helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

class APIError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(path, options = {}) {
  const init = { method: options.method || "GET", credentials: "same-origin", headers: {} };
  if (options.body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch("/api/" + path, init);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = (data && data.error) || {};
    if (response.status === 401) showBanner("Not signed in: open the URL that `p2pchat up` printed (it carries the access token).");
    throw new APIError(response.status, error.code || "error", error.message || response.statusText);
  }
  return data;
}

function initials(name) {
  return (name || "?").split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("") || "?";
}

function formatTime(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function formatDay(ms) {
  const d = new Date(ms), today = new Date();
  const yesterday = new Date(); yesterday.setDate(today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return "Today";
  if (d.toDateString() === yesterday.toDateString()) return "Yesterday";
  return d.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", year: d.getFullYear() === today.getFullYear() ? undefined : "numeric" });
}

function formatShort(ms) {
  const d = new Date(ms);
  return d.toDateString() === new Date().toDateString() ? formatTime(ms) : d.toLocaleDateString([], { day: "numeric", month: "short" });
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n, unit = -1;
  do { value /= 1024; unit++; } while (value >= 1024 && unit < units.length - 1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function showBanner(text) {
  const banner = $("banner");
  banner.textContent = text || "";
  banner.hidden = !text;
}

// ---------------------------------------------------------------- ticks

const SVG_NS = "http://www.w3.org/2000/svg";
function icon(paths, viewBox = "0 0 16 11") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", viewBox);
  svg.setAttribute("aria-hidden", "true");
  for (const d of paths) {
    const p = document.createElementNS(SVG_NS, "path");
    p.setAttribute("d", d);
    p.setAttribute("fill", "none");
    p.setAttribute("stroke", "currentColor");
    p.setAttribute("stroke-width", "1.6");
    p.setAttribute("stroke-linecap", "round");
    p.setAttribute("stroke-linejoin", "round");
    svg.append(p);
  }
  return svg;
}
const CHECK = "M1 5.8 L4 8.8 L10 2";
const CHECK2 = "M6.6 8.2 L7.2 8.8 L13.2 2";
const CLOCK = ["M8 1.5 A4 4 0 1 1 7.99 1.5", "M8 3.5 V5.5 L9.5 6.5"];

const STATE_TEXT = { queued: "Queued", sent: "Sent", stored: "Stored in mailboxes", delivered: "Delivered", read: "Read", failed: "Failed" };

function tick(message) {
  const s = message.state;
  const el = h("span", { class: "tick", dataset: { state: s.kind } });
  switch (s.kind) {
    case "queued": el.append(icon(CLOCK, "0 0 16 11")); el.title = "Queued: waiting to be sent"; break;
    case "sent": el.append(icon([CHECK])); el.title = "Sent: handed to the recipient's node"; break;
    case "stored": el.append(icon([CHECK]), h("span", { class: "stored" }, `${s.copies}/${s.total}`)); el.title = `Stored in ${s.copies} of ${s.total} mailboxes`; break;
    case "delivered": el.append(icon([CHECK, CHECK2])); el.title = "Delivered"; break;
    case "read": el.append(icon([CHECK, CHECK2])); el.title = "Read"; break;
    case "failed": el.append("!"); el.title = `Failed: ${s.reason || "unknown"}`; break;
    default: el.append(s.kind);
  }
  el.setAttribute("aria-label", STATE_TEXT[s.kind] || s.kind);
  return el;
}

// ---------------------------------------------------------------- contacts

function renderContacts() {
  const list = $("contacts");
  list.replaceChildren();
  const contacts = [...state.contacts.values()].sort((a, b) =>
    ((b.lastMessage && b.lastMessage.sentAt) || b.createdAt) - ((a.lastMessage && a.lastMessage.sentAt) || a.createdAt));
  if (contacts.length === 0) {
    list.append(h("li", { class: "empty" }, "No contacts yet. Add one from an invite code, or share your invite."));
  }
  for (const c of contacts) {
    const last = c.lastMessage;
    const preview = last ? (last.direction === "out" ? "You: " : "") + last.body : "No messages yet";
    list.append(h("li", {
      class: "contact" + (c.id === state.selected ? " selected" : ""),
      dataset: { id: c.id, online: c.online ? "true" : "false", name: c.name },
      onclick: () => openChat(c.id),
    },
      h("div", { class: "avatar" }, initials(c.name), h("span", { class: "dot" + (c.online ? " online" : ""), title: c.online ? "online" : "offline" })),
      h("div", { class: "contact-main" },
        h("div", { class: "contact-top" }, h("span", { class: "contact-name" }, c.name), last ? h("span", { class: "contact-time" }, formatShort(last.sentAt)) : null),
        h("div", { class: "contact-bottom" }, h("span", { class: "preview" }, preview),
          c.unread > 0 ? h("span", { class: "badge unread" }, c.unread) : null))));
  }
  updateChatHeader();
}

async function loadContacts() {
  const data = await api("contacts");
  state.contacts = new Map(data.contacts.map((c) => [c.id, c]));
  renderContacts();
}

function updateChatHeader() {
  const c = state.contacts.get(state.selected);
  if (!c) return;
  $("chat-name").textContent = c.name;
  $("chat-avatar").replaceChildren(initials(c.name), h("span", { class: "dot" + (c.online ? " online" : "") }));
  const presence = $("chat-presence");
  presence.className = "chat-presence" + (c.online ? " online" : "");
  presence.textContent = c.online ? "online" : c.lastSeenAt ? `offline · last seen ${formatShort(c.lastSeenAt)}` : "offline";
  presence.dataset.online = c.online ? "true" : "false";
}

// ---------------------------------------------------------------- views

function show(view) {
  state.view = view;
  for (const name of ["empty", "chat", "add", "invite", "queue", "storage"]) $("view-" + name).hidden = name !== view;
  for (const name of ["add", "invite", "queue", "storage"]) $("nav-" + name).classList.toggle("active", name === view);
  if (view !== "chat") { state.selected = null; renderContacts(); }
}

// ---------------------------------------------------------------- conversation

async function openChat(id, focusMessageID) {
  state.selected = id;
  state.replyTo = null;
  $("reply-bar").hidden = true;
  show("chat");
  state.selected = id;
  renderContacts();
  const page = await api(`contacts/${id}/messages?limit=50`);
  state.messages.set(id, { list: page.messages, hasMore: page.hasMore });
  renderMessages(true);
  markRead();
  if (focusMessageID) await focusMessage(focusMessageID);
  $("compose-text").focus();
}

let loadingOlder = false;
async function loadOlder() {
  const id = state.selected;
  const conv = state.messages.get(id);
  if (!conv || !conv.hasMore || conv.list.length === 0 || loadingOlder) return false;
  loadingOlder = true;
  try { return await loadOlderPage(id, conv); } finally { loadingOlder = false; }
}

async function loadOlderPage(id, conv) {
  const box = $("messages");
  const before = box.scrollHeight - box.scrollTop;
  const page = await api(`contacts/${id}/messages?limit=50&before=${conv.list[0].id}`);
  conv.list = page.messages.concat(conv.list);
  conv.hasMore = page.hasMore;
  renderMessages(false);
  box.scrollTop = box.scrollHeight - before;
  return true;
}

function messageByID(id) {
  const conv = state.messages.get(state.selected);
  return conv ? conv.list.find((m) => m.id === id) : undefined;
}

function renderMessage(m) {
  const c = state.contacts.get(m.contactID);
  const original = m.replyTo ? messageByID(m.replyTo) : null;
  const quote = m.replyTo ? h("div", { class: "quote", dataset: { replyTo: m.replyTo }, onclick: () => focusMessage(m.replyTo) },
    h("div", { class: "who" }, original ? (original.direction === "out" ? "You" : (c && c.name) || "Them") : "Reply"),
    h("div", { class: "what" }, original ? original.body : "an earlier message")) : null;
  const failed = m.state.kind === "failed";
  const canCancel = m.direction === "out" && (m.state.kind === "queued" || m.state.kind === "stored");
  const bubble = h("div", { class: "bubble" },
    quote,
    m.attachment ? fileCard(m) : h("div", { class: "text" }, m.body),
    h("div", { class: "meta" }, h("time", { datetime: new Date(m.sentAt).toISOString(), title: new Date(m.sentAt).toLocaleString() }, formatTime(m.sentAt)),
      m.direction === "out" ? tick(m) : null),
    failed && m.direction === "out" ? h("div", { class: "failure" }, `Not delivered: ${m.state.reason}${m.error ? " — " + m.error : ""}`,
      h("button", { type: "button", class: "link retry", onclick: () => retry(m.id) }, "Retry")) : null,
    canCancel && m.attempts > 0 && m.error ? h("div", { class: "failure pending" }, `Retrying: ${m.error}`) : null);
  const actions = h("div", { class: "actions" },
    h("button", { type: "button", class: "icon reply", title: "Reply", onclick: () => startReply(m) }, "↩"),
    canCancel ? h("button", { type: "button", class: "icon cancel", title: "Cancel sending", onclick: () => cancel(m.id) }, "✕") : null);
  const row = h("div", { class: `msg ${m.direction === "out" ? "out" : "in"}`, id: "m-" + m.id, dataset: { id: m.id, state: m.state.kind } });
  if (m.direction === "out") row.append(actions, bubble); else row.append(bubble, actions);
  return row;
}

const FILE_STATE_TEXT = { pending: "Waiting to download", fetching: "Downloading", done: "", failed: "Download failed", deleted: "Deleted from this device" };

// An attachment: name, size, progress while fetching, a download link once done.
function fileCard(m) {
  const a = m.attachment;
  const total = a.bytesTotal || 0;
  const percent = a.state === "done" ? 100 : total > 0 ? Math.min(100, Math.floor((a.bytesDone * 100) / total)) : 0;
  const status = a.state === "failed" ? `${FILE_STATE_TEXT.failed}: ${a.error || "unknown"}${a.retrying ? " (will retry)" : ""}`
    : a.state === "fetching" || a.state === "pending" ? `${FILE_STATE_TEXT[a.state]} ${percent}%` : a.state in FILE_STATE_TEXT ? FILE_STATE_TEXT[a.state] : a.state;
  const href = "/api/messages/" + encodeURIComponent(m.id) + "/attachment";
  return h("div", { class: `file-card ${a.state}`, dataset: { fileState: a.state } },
    h("div", { class: "file-icon", "aria-hidden": "true" }, (a.name.includes(".") ? a.name.split(".").pop() : "file").slice(0, 4).toUpperCase()),
    h("div", { class: "file-body" },
      a.downloadable ? h("a", { class: "file-name", href, download: a.name }, a.name) : h("span", { class: "file-name" }, a.name),
      h("div", { class: "file-sub" }, `${formatBytes(a.size)} · ${a.mediaType}`),
      a.state === "fetching" || a.state === "pending" ? h("progress", { class: "file-progress", max: "100", value: String(percent) }) : null,
      status ? h("div", { class: "file-status" }, status) : null,
      a.caption ? h("div", { class: "text" }, a.caption) : null),
    a.downloadable ? h("a", { class: "file-download", href, download: a.name, title: "Download", "aria-label": "Download " + a.name }, "⤓") : null);
}

async function sendFiles(files) {
  if (!state.selected || !files || files.length === 0) return;
  for (const file of files) {
    try {
      const response = await fetch(`/api/contacts/${state.selected}/files`, {
        method: "POST", credentials: "same-origin", body: file,
        headers: { "Content-Type": "application/octet-stream", "X-P2PChat-File-Name": encodeURIComponent(file.name) },
      });
      const data = await response.json();
      if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
      upsertMessage(data);
    } catch (error) {
      showBanner(`Could not send ${file.name}: ${error.message}`);
    }
  }
  $("file-input").value = "";
}

function renderMessages(scrollToEnd) {
  const conv = state.messages.get(state.selected) || { list: [], hasMore: false };
  const list = $("message-list");
  list.replaceChildren();
  let day = null;
  for (const m of conv.list) {
    const d = new Date(m.sentAt).toDateString();
    if (d !== day) { day = d; list.append(h("div", { class: "day" }, formatDay(m.sentAt))); }
    list.append(renderMessage(m));
  }
  if (conv.list.length === 0) list.append(h("div", { class: "empty day" }, "No messages yet. Say hello!"));
  $("older").hidden = !conv.hasMore;
  if (scrollToEnd) { const box = $("messages"); box.scrollTop = box.scrollHeight; }
}

function upsertMessage(m) {
  const conv = state.messages.get(m.contactID);
  if (!conv) return;
  const index = conv.list.findIndex((x) => x.id === m.id);
  if (index >= 0) conv.list[index] = m;
  else {
    conv.list.push(m);
    conv.list.sort((a, b) => a.sentAt - b.sentAt || a.seq - b.seq);
  }
  if (m.contactID !== state.selected || state.view !== "chat") return;
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const existing = document.getElementById("m-" + m.id);
  if (existing) existing.replaceWith(renderMessage(m));
  else renderMessages(atBottom || m.direction === "out");
}

async function focusMessage(id) {
  let el = document.getElementById("m-" + id);
  for (let pages = 0; !el && pages < 20; pages++) {
    if (!(await loadOlder())) break;
    el = document.getElementById("m-" + id);
  }
  if (!el) return;
  el.scrollIntoView({ block: "center" });
  el.classList.add("flash");
  setTimeout(() => el.classList.remove("flash"), 1600);
}

function startReply(m) {
  state.replyTo = m;
  $("reply-text").textContent = m.body.length > 80 ? m.body.slice(0, 80) + "…" : m.body;
  $("reply-bar").hidden = false;
  $("compose-text").focus();
}

async function send(event) {
  event.preventDefault();
  const box = $("compose-text");
  const text = box.value;
  if (!text.trim() || state.selected === null) return;
  const body = { text };
  if (state.replyTo) body.replyTo = state.replyTo.id;
  $("send").disabled = true;
  try {
    const message = await api(`contacts/${state.selected}/messages`, { method: "POST", body });
    box.value = "";
    autosize();
    state.replyTo = null;
    $("reply-bar").hidden = true;
    upsertMessage(message);
    showBanner("");
  } catch (error) {
    showBanner(`Not sent: ${error.message}`);
  } finally {
    $("send").disabled = false;
    box.focus();
  }
}

let readPending = false;
async function markRead() {
  const c = state.contacts.get(state.selected);
  if (!c || state.view !== "chat" || document.visibilityState !== "visible" || readPending) return;
  const conv = state.messages.get(c.id);
  const unread = c.unread > 0 || (conv && conv.list.some((m) => m.direction === "in" && m.state.kind === "delivered"));
  if (!unread) return;
  readPending = true;
  try {
    await api(`contacts/${c.id}/read`, { method: "POST" });
    c.unread = 0;
    if (conv) conv.list.forEach((m) => { if (m.direction === "in" && m.state.kind === "delivered") m.state = { kind: "read" }; });
    renderContacts();
  } catch (error) {
    console.warn("mark read failed", error);
  } finally {
    readPending = false;
  }
}

async function retry(id) {
  try { upsertMessage(await api(`messages/${id}/retry`, { method: "POST" })); } catch (error) { showBanner(`Retry failed: ${error.message}`); }
  if (state.view === "queue") loadQueue();
}

async function cancel(id) {
  try { upsertMessage(await api(`messages/${id}/cancel`, { method: "POST" })); } catch (error) { showBanner(`Cancel failed: ${error.message}`); }
  if (state.view === "queue") loadQueue();
}

function autosize() {
  const box = $("compose-text");
  box.style.height = "auto";
  box.style.height = Math.min(box.scrollHeight, 160) + "px";
}

// ---------------------------------------------------------------- search

function onSearchInput() {
  clearTimeout(state.searchTimer);
  const q = $("search").value.trim();
  if (!q) { $("search-results").hidden = true; $("contacts").hidden = false; return; }
  state.searchTimer = setTimeout(() => runSearch(q), 200);
}

function snippet(text) {
  // The store marks matches with [ and ]; render them as <mark> without trusting any HTML.
  const el = h("div", { class: "snippet" });
  const parts = text.split(/(\[[^\]]*\])/);
  for (const part of parts) {
    if (part.startsWith("[") && part.endsWith("]")) el.append(h("mark", {}, part.slice(1, -1)));
    else if (part) el.append(part);
  }
  return el;
}

async function runSearch(q) {
  const data = await api(`search?q=${encodeURIComponent(q)}&limit=50`);
  if ($("search").value.trim() !== q) return;
  const list = $("search-results");
  list.replaceChildren();
  if (data.results.length === 0) list.append(h("li", { class: "empty" }, `No messages match “${q}”.`));
  for (const hit of data.results) {
    list.append(h("li", { class: "hit", dataset: { id: hit.message.id }, onclick: () => openChat(hit.contactID, hit.message.id) },
      h("div", { class: "avatar" }, initials(hit.contactName)),
      h("div", { class: "hit-main" },
        h("div", { class: "contact-top" }, h("span", { class: "hit-name" }, (hit.message.direction === "out" ? "You → " : "") + (hit.contactName || "?")),
          h("span", { class: "contact-time" }, formatShort(hit.message.sentAt))),
        snippet(hit.snippet))));
  }
  $("contacts").hidden = true;
  list.hidden = false;
}

// ---------------------------------------------------------------- add contact and invite

async function addContact(event) {
  event.preventDefault();
  const result = $("add-result");
  result.className = "result";
  result.textContent = "Adding…";
  try {
    const contact = await api("contacts", { method: "POST", body: { name: $("add-name").value, invite: $("add-invite").value } });
    result.className = "result ok";
    result.textContent = `Added ${contact.name}.`;
    $("add-form").reset();
    state.contacts.set(contact.id, contact);
    await openChat(contact.id);
  } catch (error) {
    result.className = "result error";
    result.textContent = error.message;
  }
}

function base64urlBytes(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}

async function showInvite() {
  show("invite");
  $("invite-text").value = "Making an invite…";
  $("invite-qr").replaceChildren();
  try {
    const invite = await api("invite", { method: "POST" });
    $("invite-text").value = invite.text;
    $("invite-expiry").textContent = `Expires ${new Date(invite.expiresAt).toLocaleString()}`;
    drawQR(invite.text);
  } catch (error) {
    $("invite-text").value = `Cannot make an invite: ${error.message}`;
  }
}

function drawQR(text) {
  const figure = $("invite-qr");
  figure.replaceChildren();
  // The text form if it fits one QR code; else the binary invite (what a P2PChat app scans).
  let code = QR.svg(new TextEncoder().encode(text), "L");
  let caption = "Scan to add me";
  if (!code && text.startsWith("p2pchat:u")) {
    code = QR.svg(base64urlBytes(text.slice("p2pchat:u".length)), "L");
    caption = "Binary invite (for P2PChat apps); copy the text for everything else";
  }
  if (!code) {
    figure.append(h("figcaption", {}, "This invite is too long for a QR code; copy the text instead."));
    return;
  }
  const holder = h("div", { class: "qr-code", dataset: { version: code.version } });
  holder.innerHTML = code.markup; // generated above from numbers only
  figure.append(holder, h("figcaption", {}, caption));
  figure.dataset.payload = caption.startsWith("Binary") ? "binary" : "text";
}

// ---------------------------------------------------------------- queue

function renderQueueBadge() {
  const total = Object.values(state.queueCounts).reduce((a, b) => a + b, 0);
  const badge = $("queue-badge");
  badge.textContent = total;
  badge.hidden = total === 0;
}

async function loadQueue() {
  const data = await api("queue");
  state.queueCounts = data.counts;
  renderQueueBadge();
  const counts = $("queue-counts");
  counts.replaceChildren(...["queued", "sent", "stored"].map((k) => h("span", { class: "chip", dataset: { state: k } }, `${STATE_TEXT[k]}: ${data.counts[k] || 0}`)));
  const list = $("queue-list");
  list.replaceChildren();
  if (data.items.length === 0) { list.append(h("p", { class: "empty" }, "Nothing waiting: every message you sent has been delivered.")); return; }
  const groups = new Map();
  for (const item of data.items) {
    if (!groups.has(item.contactID)) groups.set(item.contactID, { name: item.contactName, items: [] });
    groups.get(item.contactID).items.push(item);
  }
  for (const [contactID, group] of groups) {
    const c = state.contacts.get(contactID);
    list.append(h("div", { class: "group", dataset: { contact: contactID } },
      h("h3", {}, group.name, " ", h("span", { class: "hint" }, c && c.online ? "· online" : "· offline")),
      group.items.map(({ message: m }) => h("div", { class: "queue-item", dataset: { id: m.id, state: m.state.kind } },
        h("div", {},
          h("div", { class: "text" }, m.body),
          h("div", { class: "detail" }, `${STATE_TEXT[m.state.kind]}${m.state.kind === "stored" ? ` ${m.state.copies}/${m.state.total}` : ""} · ${formatShort(m.sentAt)}`,
            m.attempts ? ` · ${m.attempts} attempt${m.attempts === 1 ? "" : "s"}` : "",
            m.nextAttemptAt ? ` · next ${formatTime(m.nextAttemptAt)}` : "",
            m.error ? ` · ${m.error}` : "")),
        tick(m),
        h("div", { class: "row" },
          h("button", { type: "button", class: "retry", onclick: () => retry(m.id), disabled: m.state.kind === "sent" }, "Retry now"),
          h("button", { type: "button", class: "cancel", onclick: () => cancel(m.id), disabled: m.state.kind === "sent" }, "Cancel"))))));
  }
}

// ---------------------------------------------------------------- storage

async function loadStorage() {
  const data = await api("storage");
  const card = (label, value, sub) => h("div", { class: "card" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), sub ? h("div", { class: "sub" }, sub) : null);
  const localBytes = data.attachments.reduce((a, b) => a + b.localBytes, 0);
  $("storage-cards").replaceChildren(
    card("Messages database", formatBytes(data.database.bytes), data.database.path),
    card("Block store", data.blockstore.available ? formatBytes(data.blockstore.bytes) : "—", data.blockstore.available ? `${data.blockstore.blocks} blocks · ${formatBytes(data.blockstore.diskBytes)} on disk` : "not created yet"),
    card("Attachments", formatBytes(localBytes), `${data.attachments.length} files`),
    card("Mailboxes", String(data.mailboxes.length), data.mailboxes.length ? "in use" : "none yet"));
  const name = (id) => (state.contacts.get(id) || {}).name || "?";
  $("storage-attachments").replaceChildren(data.attachments.length === 0 ? h("p", { class: "empty" }, "No attachments stored.") :
    h("div", { class: "group" }, [...data.attachments].sort((a, b) => b.bytes - a.bytes).map((a) =>
      h("div", { class: "queue-item attachment-item", dataset: { state: a.state } },
        h("div", {}, h("div", {}, a.name), h("div", { class: "detail" }, `${a.direction === "in" ? "from" : "to"} ${name(a.contactID)} · ${a.createdAt ? formatShort(a.createdAt) : ""} · ${a.state}`)),
        h("span", {}, formatBytes(a.bytes)),
        h("span", { class: "detail" }, a.localBytes ? "on disk" : "not on disk")))));
  const mailboxes = await api("mailboxes");
  const count = (n, quota, format) => n === null || n === undefined ? "?" : quota ? `${format(n)} of ${format(quota)}` : format(n);
  $("storage-mailboxes").replaceChildren(
    mailboxes.mailboxes.length === 0 ? h("p", { class: "empty" }, mailboxes.note || "No mailboxes.") :
      h("div", { class: "group" }, mailboxes.mailboxes.map((m) => h("div", { class: "mailbox-item" },
        h("div", { class: "queue-item" }, h("code", {}, m.address),
          h("span", {}, m.reachable ? `${m.envelopes} waiting · ${count(m.usedBytes, m.quotaBytes, formatBytes)}` : "quotas unknown (no answer)"),
          h("span", { class: "detail" }, `${m.queues.length} queue${m.queues.length === 1 ? "" : "s"}`)),
        m.queues.map((q) => h("div", { class: "queue-item sub-item" },
          h("span", { class: "detail" }, q.contactName ? `queue for ${q.contactName}` : "queue in an invite (unclaimed)"),
          h("span", {}, q.envelopes === null || q.envelopes === undefined ? "?" : `${count(q.envelopes, q.quotaEnvelopes, String)} envelopes`),
          h("span", {}, count(q.usedBytes, q.quotaBytes, formatBytes))))))),
    ...(mailboxes.mailboxes.length && mailboxes.note ? [h("p", { class: "empty" }, mailboxes.note)] : []));
}

async function cleanup(event) {
  event.preventDefault();
  const result = $("cleanup-result");
  try {
    const data = await api("storage/attachments/delete", { method: "POST", body: { olderThanDays: Number($("cleanup-days").value) } });
    result.className = "result ok";
    const freed = data.freedBytes + (data.freedBlockBytes || 0);
    result.textContent = data.deleted.length ? `Deleted ${data.deleted.length} attachments, ${formatBytes(freed)} freed.` : "Nothing to delete.";
    loadStorage();
  } catch (error) {
    result.className = "result error";
    result.textContent = error.message;
  }
}

// ---------------------------------------------------------------- live events

function setConnection(kind, title) {
  const el = $("connection");
  el.dataset.state = kind;
  el.title = title;
}

function connect() {
  clearTimeout(state.reconnectTimer);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/ws`);
  state.socket = socket;
  socket.onopen = () => {
    state.backoff = 0;
    setConnection("live", "Connected to your node");
    showBanner("");
    refreshAll();
  };
  socket.onmessage = (event) => {
    try { handleEvent(JSON.parse(event.data)); } catch (error) { console.warn("bad event", error); }
  };
  socket.onclose = () => {
    if (state.socket !== socket) return;
    // Exponential backoff with jitter, 0.5 s doubling to 10 s; then everything is refetched.
    const delay = Math.min(10000, 500 * 2 ** state.backoff) * (0.75 + Math.random() * 0.5);
    state.backoff = Math.min(state.backoff + 1, 6);
    setConnection("reconnecting", "Node unreachable; reconnecting…");
    if (state.backoff > 1) showBanner("Your node is not reachable; reconnecting…");
    state.reconnectTimer = setTimeout(connect, delay);
  };
}

function handleEvent(event) {
  switch (event.type) {
    case "hello":
      break;
    case "message":
    case "state": {
      upsertMessage(event.message);
      const c = state.contacts.get(event.message.contactID);
      if (c && (!c.lastMessage || c.lastMessage.sentAt <= event.message.sentAt)) { c.lastMessage = event.message; renderContacts(); }
      if (event.type === "message" && event.message.direction === "in" && event.message.contactID === state.selected) markRead();
      if (state.view === "queue") loadQueue();
      break;
    }
    case "presence": {
      const c = state.contacts.get(event.contactID);
      if (c) { c.online = event.online; renderContacts(); }
      break;
    }
    case "contacts":
      state.contacts = new Map(event.contacts.map((c) => [c.id, c]));
      renderContacts();
      if (state.selected !== null) markRead();
      break;
    case "queue":
      state.queueCounts = event.counts;
      renderQueueBadge();
      if (state.view === "queue") loadQueue();
      break;
  }
}

async function refreshAll() {
  try {
    const status = await api("status");
    state.me = status;
    $("me-name").textContent = status.name;
    $("me-peer").textContent = status.peerID;
    $("me-avatar").textContent = initials(status.name);
    state.queueCounts = status.outbox;
    renderQueueBadge();
    await loadContacts();
    if (state.view === "chat" && state.selected !== null) {
      const page = await api(`contacts/${state.selected}/messages?limit=50`);
      state.messages.set(state.selected, { list: page.messages, hasMore: page.hasMore });
      renderMessages(true);
      markRead();
    } else if (state.view === "queue") loadQueue();
    else if (state.view === "storage") loadStorage();
  } catch (error) {
    console.warn("refresh failed", error);
  }
}

// ---------------------------------------------------------------- start

function start() {
  $("nav-add").onclick = () => { show("add"); $("add-name").focus(); };
  $("nav-invite").onclick = showInvite;
  $("nav-queue").onclick = () => { show("queue"); loadQueue(); };
  $("nav-storage").onclick = () => { show("storage"); loadStorage(); };
  $("invite-new").onclick = showInvite;
  $("invite-copy").onclick = async () => {
    $("invite-text").select();
    try { await navigator.clipboard.writeText($("invite-text").value); $("invite-copy").textContent = "Copied"; } catch { document.execCommand("copy"); }
    setTimeout(() => { $("invite-copy").textContent = "Copy"; }, 1500);
  };
  $("add-form").addEventListener("submit", addContact);
  $("composer").addEventListener("submit", send);
  $("cleanup-form").addEventListener("submit", cleanup);
  $("attach").onclick = () => $("file-input").click();
  $("file-input").addEventListener("change", () => sendFiles([...$("file-input").files]));
  $("messages").addEventListener("dragover", (event) => { if (state.selected) event.preventDefault(); });
  $("messages").addEventListener("drop", (event) => { event.preventDefault(); sendFiles([...event.dataTransfer.files]); });
  $("compose-text").addEventListener("input", autosize);
  $("compose-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); $("composer").requestSubmit(); }
    if (event.key === "Escape") { state.replyTo = null; $("reply-bar").hidden = true; }
  });
  $("reply-cancel").onclick = () => { state.replyTo = null; $("reply-bar").hidden = true; };
  $("older").onclick = loadOlder;
  $("messages").addEventListener("scroll", () => { if ($("messages").scrollTop < 40) loadOlder(); });
  $("search").addEventListener("input", onSearchInput);
  $("search").addEventListener("search", onSearchInput);
  document.addEventListener("visibilitychange", markRead);
  window.addEventListener("focus", markRead);
  show("empty");
  setConnection("connecting", "Connecting…");
  connect();
}

document.addEventListener("DOMContentLoaded", start);
