// Verify page enhancements. The page works without this script (a plain upload form).
// 1. A QR link /verify?q={"type":"DOCUMENT","payload":{"uri":...}}#{"key":"<hex>"} is opened here:
//    the encrypted document is fetched, decrypted with WebCrypto (AES-256-GCM,
//    OPEN-ATTESTATION-TYPE-1) using the key from the fragment, which browsers never send to a
//    server, and the decrypted document is submitted through the form to be checked.
// 2. A file can be dropped on the form.
(function () {
  "use strict";
  var form = document.getElementById("verify-form");
  if (!form) return;
  var field = document.getElementById("document-text");
  var fileInput = document.getElementById("file");
  var status = document.getElementById("link-status");
  var messages = document.getElementById("verify-messages").dataset;

  function say(text, isError) {
    status.hidden = false;
    status.className = isError ? "alert alert-danger" : "alert alert-info";
    status.setAttribute("role", isError ? "alert" : "status");
    status.textContent = text;
  }

  function bytesFromBase64(text) {
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function bytesFromHex(hex) {
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error("the key must be 64 hex digits");
    var bytes = new Uint8Array(32);
    for (var i = 0; i < 32; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
    return bytes;
  }

  async function decrypt(stored, keyHex) {
    if (stored.type !== "OPEN-ATTESTATION-TYPE-1") throw new Error("unknown encryption " + stored.type);
    var cipher = bytesFromBase64(stored.cipherText);
    var tag = bytesFromBase64(stored.tag);
    var sealed = new Uint8Array(cipher.length + tag.length);
    sealed.set(cipher, 0);
    sealed.set(tag, cipher.length);
    var key = await crypto.subtle.importKey("raw", bytesFromHex(keyHex), "AES-GCM", false, ["decrypt"]);
    var plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytesFromBase64(stored.iv), tagLength: 128 }, key, sealed);
    // the plaintext is base64 of the UTF-8 JSON text
    var base64Text = new TextDecoder().decode(plain);
    return new TextDecoder("utf-8").decode(bytesFromBase64(base64Text));
  }

  function parseJson(text) {
    try { return JSON.parse(text); } catch (e) { return null; }
  }

  async function openLink() {
    var params = new URLSearchParams(window.location.search);
    var query = params.get("q");
    if (!query) return;
    var action = parseJson(query);
    var payload = action && action.type === "DOCUMENT" ? action.payload : null;
    if (!payload || typeof payload.uri !== "string") { say(messages.failed, true); return; }
    var anchor = parseJson(decodeURIComponent(window.location.hash.replace(/^#/, ""))) || {};
    var keyHex = anchor.key || payload.key;
    // the key has been read: keep it out of the address bar and the history from now on
    history.replaceState(null, "", window.location.pathname + window.location.search);
    if (!keyHex) { say(messages.nokey, true); return; }
    try {
      say(messages.fetching, false);
      var response = await fetch(payload.uri, { headers: { Accept: "application/json" }, credentials: "omit" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      var body = await response.json();
      var stored = body && body.document ? body.document : body;
      say(messages.decrypting, false);
      field.value = await decrypt(stored, keyHex);
      fileInput.value = "";
      form.submit();
    } catch (error) {
      say(messages.failed + " (" + error.message + ")", true);
    }
  }

  var zone = document.getElementById("drop-zone");
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("border-primary");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("border-primary"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    var files = event.dataTransfer && event.dataTransfer.files;
    if (!files || !files.length) return;
    fileInput.files = files;
    field.value = "";
    form.submit();
  });

  openLink();
})();
