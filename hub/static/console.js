// The console's behaviour in the browser: live part count, cost and preview while composing, a draft
// kept in localStorage (restored after a re-login), one send per form, copy buttons, and live counts
// swapped in place instead of page reloads (so a selection or a half-typed text is never lost).
(function () {
  const DRAFT = "tdp-compose-draft";

  function store(value) {
    try {
      if (value === null) localStorage.removeItem(DRAFT); else localStorage.setItem(DRAFT, JSON.stringify(value));
    } catch (e) { /* private mode: the form still works, only the draft is not kept */ }
  }

  function loadDraft() {
    try { return JSON.parse(localStorage.getItem(DRAFT) || "null"); } catch (e) { return null; }
  }

  // A send disables its button at once: a second tap (or a slow link) cannot post the form again.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      const button = event.submitter;
      if (!button || form.dataset.busy) { if (form.dataset.busy) event.preventDefault(); return; }
      form.dataset.busy = "1";
      if (button.name) {   // a disabled submitter would drop its own name=value from the post
        const copy = document.createElement("input");
        copy.type = "hidden"; copy.name = button.name; copy.value = button.value;
        form.appendChild(copy);
      }
      button.disabled = true;
      if (button.value === "send") button.textContent = "Đang gửi…";
    });
  });

  const show = document.getElementById("show-password");
  if (show) show.addEventListener("change", function () {
    document.getElementById("password").type = show.checked ? "text" : "password";
  });

  if (document.querySelector("[data-clear-draft]")) store(null);

  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", async function () {
      const text = button.dataset.copy;
      try {
        await navigator.clipboard.writeText(text);
      } catch (e) {
        const area = document.createElement("textarea");
        area.value = text; document.body.appendChild(area); area.select();
        document.execCommand("copy"); area.remove();
      }
      button.textContent = "Đã sao chép";
    });
  });

  // Live parts of the page: fetched again and swapped in, unless the official is selecting text.
  function busy() {
    const selection = window.getSelection();
    return (selection && selection.toString().length > 0) ||
      (document.activeElement && ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName));
  }
  const live = document.querySelector("#counts[data-src], #cards[data-src], #list[data-src]");
  if (live) {
    setInterval(async function () {
      if (busy() || document.hidden) return;
      const response = await fetch(live.dataset.src, {credentials: "same-origin"});
      if (!response.ok || busy()) return;
      const html = await response.text();
      const doc = new DOMParser().parseFromString(html, "text/html");
      const fresh = live.id === "counts" ? doc.body : doc.getElementById(live.id);
      if (fresh) live.innerHTML = fresh.innerHTML;
    }, 4000);
  }

  const form = document.getElementById("compose");
  if (!form) return;
  const text = document.getElementById("text"), unaccented = document.getElementById("unaccented");
  const urgent = document.getElementById("urgent"), group = document.getElementById("group");
  const parts = document.getElementById("parts"), relay = document.getElementById("relay");
  const total = document.getElementById("total"), warning = document.getElementById("offline-warning");
  const expires = document.getElementById("expires"), lost = document.getElementById("session-lost");
  const price = Number(form.dataset.price || 0);
  let timer = null, seq = 0;

  function boxes() { return Array.from(form.querySelectorAll("input[name=kiosk]")); }
  function chosen() { return boxes().filter(b => b.checked); }

  function saveDraft() {
    if (form.dataset.draft !== "compose") return;
    store({text: text.value, group: group.value, urgent: urgent.checked, unaccented: unaccented.checked,
           expires: expires.value, kiosks: chosen().map(b => b.value)});
  }

  const draft = loadDraft();
  if (draft && form.dataset.draft === "compose" && !text.value && draft.text) {
    text.value = draft.text;
    if (draft.group && group.querySelector(`option[value="${CSS.escape(draft.group)}"]`)) group.value = draft.group;
    urgent.checked = !!draft.urgent; unaccented.checked = !!draft.unaccented; expires.value = draft.expires || "";
    if (draft.kiosks && draft.kiosks.length) boxes().forEach(b => { b.checked = draft.kiosks.includes(b.value); });
    document.getElementById("draft-restored").hidden = false;
  }

  form.querySelectorAll(".pick-ward").forEach(function (button) {
    button.addEventListener("click", function () {
      const names = button.dataset.kiosks.split(" ");
      boxes().forEach(b => { if (names.includes(b.value)) b.checked = true; });
      later();
    });
  });

  function money(value) { return Math.round(value).toLocaleString("vi-VN"); }

  function people() {
    let sum = 0, known = true;
    chosen().forEach(function (box) {
      const groups = JSON.parse(box.dataset.groups || "{}");
      if (group.value in groups) sum += groups[group.value]; else if (Object.keys(groups).length === 0) known = false;
    });
    return known ? sum : null;
  }

  async function update() {
    saveDraft();
    const mine = ++seq;
    if (!text.value.trim()) { parts.textContent = "Chưa có nội dung"; total.hidden = true; relay.hidden = true; }
    let response;
    try {
      response = await fetch("/console/api/segments", {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": form.dataset.csrf},
        body: JSON.stringify({text: text.value, unaccented: unaccented.checked, urgent: urgent.checked,
                              group: group.value}),
      });
    } catch (e) { return; }
    if (mine !== seq) return;
    const data = await response.json();
    if (response.status === 401 || response.status === 403) {
      lost.textContent = data.error; lost.hidden = false; return;
    }
    lost.hidden = true;
    if (!response.ok) { parts.textContent = data.error; return; }
    const preview = document.getElementById("preview"), list = document.getElementById("preview-parts");
    list.textContent = "";
    (data.preview || []).forEach(function (part, i) {
      const bubble = document.createElement("div");
      bubble.className = "bubble"; bubble.textContent = part;
      if (data.preview.length > 1) {
        const label = document.createElement("small"); label.textContent = `Tin ${i + 1}/${data.preview.length}`;
        bubble.appendChild(label);
      }
      list.appendChild(bubble);
    });
    preview.hidden = !(data.preview || []).length;
    parts.dataset.parts = data.parts;
    if (data.parts) {
      parts.className = data.too_long ? "error" : "notice";
      parts.textContent = `${data.chars} ký tự ${data.encoding === "ucs2" ? "có dấu" : "không dấu"} = ${data.parts} tin/người.` +
        (data.too_long ? ` Quá dài: tối đa ${data.max_parts} tin nhắn. Hãy rút gọn.` : "");
    }
    const count = people();
    if (data.parts && group.value && chosen().length) {
      total.hidden = false;
      total.textContent = count === null ? `${data.parts} tin/người × số người của nhóm (kiosk chưa báo số người)` :
        `Gửi ${count} người: ${count * data.parts} tin, khoảng ${money(count * data.parts * price)} đ`;
    } else { total.hidden = true; }
    const offline = chosen().filter(b => b.dataset.online === "0");
    warning.hidden = !offline.length;
    warning.textContent = offline.map(b => `Kiosk ${b.value}: ${b.dataset.line}. Thông báo sẽ gửi khi kiosk có mạng lại.`).join(" ");
    if (offline.length && data.relay && group.value) {
      relay.hidden = false;
      const sims = offline.map(b => `${b.value}${b.dataset.sim ? " (" + b.dataset.sim + ")" : ""}`).join(", ");
      document.getElementById("relay-intro").textContent =
        `Nếu cần gửi ngay: dùng điện thoại đã đăng ký với kiosk, nhắn nội dung dưới đây tới số của kiosk ${sims}, ` +
        `thay <PIN> bằng mã PIN nhắn lệnh (4 số, không phải mật khẩu đăng nhập). Nếu gửi hơn 50 người, kiosk sẽ nhắn ` +
        `lại mã – trả lời "XN <mã>" trong 10 phút.`;
      document.getElementById("relay-command").textContent = data.relay.command;
      document.getElementById("relay-parts").textContent =
        `Tin nhắn này dài ${data.relay.parts} tin (tính cước vào thuê bao của anh/chị).`;
    } else {
      relay.hidden = true;
    }
  }

  function later() { clearTimeout(timer); timer = setTimeout(update, 150); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  update();
})();
