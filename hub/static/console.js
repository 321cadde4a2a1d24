// Compose page: live SMS part count and cost, and the SMS relay command for offline kiosks.
(function () {
  const form = document.getElementById("compose");
  if (!form) return;
  const text = document.getElementById("text"), unaccented = document.getElementById("unaccented");
  const urgent = document.getElementById("urgent"), group = document.getElementById("group");
  const parts = document.getElementById("parts"), relay = document.getElementById("relay");
  let timer = null, seq = 0;

  function offlineChosen() {
    return Array.from(form.querySelectorAll("input[name=kiosk]:checked")).filter(b => b.dataset.online === "0");
  }

  async function update() {
    const mine = ++seq;
    const response = await fetch("/console/api/segments", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": form.dataset.csrf},
      body: JSON.stringify({text: text.value, unaccented: unaccented.checked, urgent: urgent.checked, group: group.value}),
    });
    if (mine !== seq) return;
    const data = await response.json();
    if (!response.ok) { parts.textContent = data.error; return; }
    parts.textContent = `Số tin nhắn: ${data.parts} (${data.chars} ký tự, ${data.encoding === "ucs2" ? "có dấu" : "không dấu"})` +
      ` · chi phí ${data.cost_per_recipient.toLocaleString("vi-VN")} đ/người nhận` +
      (data.too_long ? ` · QUÁ DÀI: tối đa ${data.max_parts} tin` : "");
    parts.dataset.parts = data.parts;
    const offline = offlineChosen();
    if (urgent.checked && offline.length && data.relay) {
      relay.hidden = false;
      document.getElementById("relay-command").textContent = data.relay.command;
      document.getElementById("relay-parts").textContent = `Lệnh này dài ${data.relay.parts} tin nhắn.`;
      document.getElementById("relay-sims").textContent =
        offline.map(b => `${b.value}${b.dataset.sim ? " (" + b.dataset.sim + ")" : ""}`).join(", ");
    } else {
      relay.hidden = true;
    }
  }

  function later() { clearTimeout(timer); timer = setTimeout(update, 150); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  update();
})();
