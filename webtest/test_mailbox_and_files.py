"""Offline round through a real mailbox (`p2pchat mailbox serve`), then an attachment from
Alice's page to Bob's: its card with progress, and a byte-exact download with the page's cookie.

Bob receives at the mailbox (`mailbox use`) before he makes his invite, so the invite carries a
queue there; while his node is down Alice's message is deposited ("stored 1/1"), and when it
comes back it drains the queue: delivered, then read once he opens the conversation.
"""
import hashlib
import os
import queue
import shutil
import subprocess
import tempfile
import threading

from selenium.webdriver.common.by import By

from conftest import BIN, Node
from test_chat import css, message_row, open_contact, send, wait

# Records every `state`/`message` event's message state (and attachment state) per message id.
RECORD_EVENTS = """
if (!window.__seen) {
  window.__seen = {};
  const original = window.handleEvent;
  window.handleEvent = (event) => {
    if (event.message) {
      const m = event.message;
      const list = (window.__seen[m.id] = window.__seen[m.id] || []);
      const entry = m.state.kind + (m.state.kind === "stored" ? ` ${m.state.copies}/${m.state.total}` : "") +
        (m.attachment ? ` file:${m.attachment.state}:${m.attachment.bytesDone}/${m.attachment.bytesTotal}` : "");
      if (list[list.length - 1] !== entry) list.push(entry);
    }
    return original(event);
  };
}
"""


class Mailbox:
    """`p2pchat --home M mailbox serve`; `address` is the first multiaddr it prints."""

    def __init__(self, root):
        self.home = os.path.join(root, "mailbox")
        self.log = open(os.path.join(root, "mailbox.log"), "a")
        self.process = subprocess.Popen([BIN, "--home", self.home, "mailbox", "serve"], stdout=subprocess.PIPE, stderr=self.log, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line.strip()) for line in self.process.stdout] + [lines.put(None)], daemon=True).start()
        line = lines.get(timeout=60)
        assert line and line.startswith("/ip4/"), f"mailbox serve printed {line!r}; see {self.log.name}"
        self.address = line

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)


def tick_state(browser, text):
    row = message_row(browser, text, "out")
    return row.find_element(By.CSS_SELECTOR, ".tick").get_attribute("data-state") if row else None


def test_offline_round_through_a_mailbox_and_an_attachment(browsers, screenshot):
    root = tempfile.mkdtemp(prefix="webtest-mailbox-")
    mailbox = Mailbox(root)
    alice = Node("Alice", root)
    bob = Node("Bob", root)
    try:
        used = subprocess.run([BIN, "--home", bob.home, "mailbox", "use", mailbox.address], capture_output=True, text=True, timeout=60)
        assert used.returncode == 0, used.stderr
        alice.start()
        bob.start()
        a = browsers()
        b = browsers()
        a.get(alice.url)
        b.get(bob.url)
        for browser in (a, b):
            wait(browser, lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "live", "event socket live")
            browser.execute_script(RECORD_EVENTS)

        # Bob's invite (with his mailbox queue); Alice adds him from it.
        b.find_element(By.ID, "nav-invite").click()
        invite = wait(b, lambda d: (v := d.find_element(By.ID, "invite-text").get_attribute("value")).startswith("p2pchat:") and v, "Bob's invite")
        a.find_element(By.ID, "nav-add").click()
        a.find_element(By.ID, "add-name").send_keys("Bob")
        a.execute_script("document.getElementById('add-invite').value = arguments[0]", invite)
        a.find_element(By.ID, "add-submit").click()
        wait(a, lambda d: d.find_element(By.ID, "chat-name").text == "Bob", "Alice's conversation with Bob")
        open_contact(b, "Alice")
        send(a, "Hello Bob, online first")
        wait(a, lambda d: tick_state(d, "Hello Bob, online first") == "read", "read tick while both are online")

        # Bob's page shows his mailbox with its queues in the storage view.
        b.find_element(By.ID, "nav-storage").click()
        wait(b, lambda d: any(mailbox.address.split("/p2p/")[0] in m.text for m in css(d, "#storage-mailboxes .mailbox-item")), "Bob's mailbox listed")
        wait(b, lambda d: "waiting" in d.find_element(By.ID, "storage-mailboxes").text, "the mailbox's counts and quota")
        screenshot(b, "storage-mailbox-bob")

        # Bob's node stops (his page is on the storage view, so nothing marks read on return).
        bob.stop()
        wait(a, lambda d: d.find_element(By.ID, "chat-presence").get_attribute("data-online") == "false", "Bob offline on Alice's page")
        text = "Stored for you in the mailbox"
        send(a, text)
        wait(a, lambda d: tick_state(d, text) == "stored", "stored tick on Alice's page", timeout=60)
        stored = message_row(a, text, "out").find_element(By.CSS_SELECTOR, ".tick").text
        assert "1/1" in stored, f"stored tick reads {stored!r}"
        screenshot(a, "mailbox-stored")

        # Bob's node starts: it drains the mailbox; Alice sees delivered, then read once Bob opens the chat.
        bob.start()
        wait(b, lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "live", "Bob's page reconnected")
        wait(a, lambda d: tick_state(d, text) == "delivered", "delivered tick after Bob's node drained the mailbox", timeout=90)
        screenshot(a, "mailbox-delivered")
        open_contact(b, "Alice")
        wait(b, lambda d: message_row(d, text, "in"), "the mailbox message on Bob's page")
        wait(a, lambda d: tick_state(d, text) == "read", "read tick after the mailbox round")
        screenshot(a, "mailbox-read")
        message_id = message_row(a, text, "out").get_attribute("data-id")
        seen = [e.split(" file:")[0] for e in a.execute_script("return window.__seen[arguments[0]] || []", message_id)]
        kinds = [e.split(" ")[0] for e in seen]
        assert "stored 1/1" in seen and kinds.index("stored") < kinds.index("delivered") < kinds.index("read"), seen

        # An attachment from Alice's page: Bob's page shows its card with progress, then downloads it byte-exact.
        path = os.path.join(root, "holiday photos.bin")
        data = bytes((i * 7 + (i >> 9)) & 0xFF for i in range(3 * 1024 * 1024 + 123))
        with open(path, "wb") as f:
            f.write(data)
        a.execute_script("document.getElementById('file-input').hidden = false")
        a.find_element(By.ID, "file-input").send_keys(path)
        card_a = wait(a, lambda d: next((c for c in css(d, ".msg.out .file-card") if "holiday photos.bin" in c.text), None), "file card on Alice's page")
        assert card_a.get_attribute("data-file-state") == "done"
        card_b = wait(b, lambda d: next((c for c in css(d, ".msg.in .file-card") if "holiday photos.bin" in c.text), None), "file card on Bob's page")
        assert "3.0 MiB" in card_b.text or "MiB" in card_b.text
        screenshot(b, "attachment-arriving-bob")
        wait(b, lambda d: next(c for c in css(d, ".msg.in .file-card") if "holiday photos.bin" in c.text).get_attribute("data-file-state") == "done",
             "attachment fetched on Bob's page", timeout=90)
        screenshot(b, "attachment-done-bob")
        screenshot(a, "attachment-sent-alice")
        row = next(r for r in css(b, ".msg.in") if r.find_elements(By.CSS_SELECTOR, ".file-card"))
        states = b.execute_script("return window.__seen[arguments[0]] || []", row.get_attribute("data-id"))
        files = [e.split(" file:")[1] for e in states if " file:" in e]
        assert files and files[-1].startswith("done"), states
        # Progress: the card went through pending/fetching before done, with bytes counted.
        assert any(f.startswith(("pending", "fetching")) for f in files), files
        link = next(c for c in css(b, ".msg.in .file-card") if "holiday photos.bin" in c.text).find_element(By.CSS_SELECTOR, "a.file-download")
        result = b.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(arguments[0], { credentials: "same-origin" }).then(async (r) => {
              const bytes = await r.arrayBuffer();
              const digest = await crypto.subtle.digest("SHA-256", bytes);
              done([r.status, r.headers.get("content-disposition"), bytes.byteLength,
                    [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, "0")).join("")]);
            }).catch((e) => done([0, String(e), 0, ""]));
        """, link.get_attribute("href"))
        assert result[0] == 200, result
        assert 'filename="holiday photos.bin"' in result[1], result
        assert result[2] == len(data) and result[3] == hashlib.sha256(data).hexdigest(), result

        # Storage: the received file is listed; "delete old attachments" (0 days) removes it, the message stays.
        b.find_element(By.ID, "nav-storage").click()
        wait(b, lambda d: any("holiday photos.bin" in i.text for i in css(d, "#storage-attachments .attachment-item")), "attachment in Bob's storage view")
        screenshot(b, "storage-attachments-bob")
        days = b.find_element(By.ID, "cleanup-days")
        days.clear()
        days.send_keys("0")
        b.find_element(By.CSS_SELECTOR, "#cleanup-form button[type=submit]").click()
        wait(b, lambda d: "Deleted 1 attachments" in d.find_element(By.ID, "cleanup-result").text, "delete old attachments")
        wait(b, lambda d: any(i.get_attribute("data-state") == "deleted" for i in css(d, "#storage-attachments .attachment-item")), "listed as deleted")
        open_contact(b, "Alice")
        wait(b, lambda d: next(c for c in css(d, ".msg.in .file-card") if "holiday photos.bin" in c.text).get_attribute("data-file-state") == "deleted",
             "the message stays with its file deleted")
        screenshot(b, "attachment-deleted-bob")
    finally:
        bob.stop()
        alice.stop()
        mailbox.stop()
        shutil.rmtree(root, ignore_errors=True)
