// instancehub's SSH key maker: a "Generate a key pair" button beside an SSH
// public key field makes an Ed25519 pair with the browser's WebCrypto, hands
// the private key over as an OpenSSH private key file (openssh-key-v1,
// unencrypted, as `ssh-keygen -t ed25519 -N ""` writes it) and puts the public
// key in the field. The private key never leaves the browser: it is in no
// form field and no request. A browser without Ed25519 says so, and the field
// still takes a pasted key.
(function () {
  "use strict";

  var enc = new TextEncoder();

  // SSH's wire format: a string is its length (uint32, big-endian) then its
  // bytes.
  function u32(n) {
    return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  }
  function concat(parts) {
    var len = 0;
    parts.forEach(function (p) { len += p.length; });
    var out = new Uint8Array(len), at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function sshString(bytes) {
    if (typeof bytes === "string") bytes = enc.encode(bytes);
    return concat([u32(bytes.length), bytes]);
  }
  function base64(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s);
  }

  // openssh builds the private key file (PROTOCOL.key in OpenSSH's sources):
  // no cipher, no KDF, one key, and a private section of two equal check
  // numbers, the key (public, then seed and public), its comment and padding
  // 1, 2, 3… to the cipher's block size, 8 without one.
  function opensshPrivateKey(pub, seed, comment) {
    var pubBlob = concat([sshString("ssh-ed25519"), sshString(pub)]);
    var check = crypto.getRandomValues(new Uint8Array(4));
    var priv = concat([check, check, sshString("ssh-ed25519"), sshString(pub),
      sshString(concat([seed, pub])), sshString(comment)]);
    var pad = [];
    for (var i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
    priv = concat([priv, new Uint8Array(pad)]);
    var body = concat([enc.encode("openssh-key-v1\0"), sshString("none"), sshString("none"),
      sshString(""), u32(1), sshString(pubBlob), sshString(priv)]);
    var b64 = base64(body), lines = [];
    for (var j = 0; j < b64.length; j += 70) lines.push(b64.slice(j, j + 70));
    return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + lines.join("\n") + "\n-----END OPENSSH PRIVATE KEY-----\n";
  }

  // makePair answers the public key's line and the private key's file.
  function makePair(comment) {
    return crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]).then(function (pair) {
      return Promise.all([
        crypto.subtle.exportKey("raw", pair.publicKey),
        crypto.subtle.exportKey("pkcs8", pair.privateKey),
      ]);
    }).then(function (keys) {
      var pub = new Uint8Array(keys[0]);
      var pkcs8 = new Uint8Array(keys[1]);
      // An Ed25519 PKCS #8 key ends with its 32-byte seed (RFC 8410).
      var seed = pkcs8.slice(pkcs8.length - 32);
      var blob = concat([sshString("ssh-ed25519"), sshString(pub)]);
      return {
        publicLine: "ssh-ed25519 " + base64(blob) + " " + comment,
        privateFile: opensshPrivateKey(pub, seed, comment),
      };
    });
  }

  function download(name, text) {
    var url = URL.createObjectURL(new Blob([text], { type: "application/octet-stream" }));
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  function say(button, message, failed) {
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    if (!status) return;
    status.textContent = message;
    status.classList.toggle("field-error", !!failed);
  }

  // The buttons are hidden until this script shows them: without it, or
  // without WebCrypto, the field takes a pasted key as before.
  function reveal(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll("button[data-keygen]").forEach(function (b) {
      b.hidden = false;
      if (!window.crypto || !crypto.subtle) {
        b.disabled = true;
        say(b, "This browser cannot make keys here (it needs a secure, https page): paste a public key instead.", true);
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:load", function (e) { reveal(e.target); });

  document.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-keygen]");
    if (!button) return;
    var field = document.getElementById(button.dataset.keygen);
    if (!field) return;
    var file = button.dataset.keyfile || "instancehub_ed25519";
    button.disabled = true;
    makePair(button.dataset.keycomment || "instancehub").then(function (keys) {
      field.value = keys.publicLine;
      field.dispatchEvent(new Event("input", { bubbles: true }));
      download(file, keys.privateFile);
      say(button, "Made a new key pair: the public key is in the field, and your browser saved the private key as " +
        file + ". Keep it safe (chmod 600 " + file + "); the portal never sees it.", false);
    }).catch(function () {
      say(button, "This browser cannot make Ed25519 keys: make one with ssh-keygen -t ed25519 and paste its public key.", true);
    }).then(function () {
      button.disabled = false;
    });
  });
})();
