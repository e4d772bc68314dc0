// edgepix console: uploads with progress, the transformation builder,
// and small conveniences. No inline script: the CSP forbids it.
"use strict";
(function () {
  var csrf = document.body.dataset.csrf || "";
  var CHUNK = 20 * 1024 * 1024;

  function $(id) { return document.getElementById(id); }

  function form(data) {
    var p = new URLSearchParams();
    Object.keys(data).forEach(function (k) { p.append(k, data[k]); });
    return p;
  }

  function apiMessage(xhrText, status) {
    try { var j = JSON.parse(xhrText); if (j.error && j.error.message) return j.error.message; } catch (e) {}
    return "the server answered " + status;
  }

  // sign asks the console for the signed parameters of one upload.
  function sign(file, raw) {
    return fetch("/console/api/sign", {
      method: "POST", credentials: "same-origin",
      headers: {"X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded"},
      body: form({filename: file.name, folder: ($("up-folder") || {}).value || "",
        tags: ($("up-tags") || {}).value || "", resource_type: raw ? "raw" : "auto"})
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.error ? j.error.message : "signing failed (" + r.status + ")");
        return j;
      });
    });
  }

  // post sends one request (the whole file or one part) to the Upload API.
  function post(s, blob, name, headers, onProgress) {
    return new Promise(function (resolve, reject) {
      var fd = new FormData();
      Object.keys(s.fields).forEach(function (k) { fd.append(k, s.fields[k]); });
      fd.append("file", blob, name);
      var x = new XMLHttpRequest();
      x.open("POST", s.url);
      Object.keys(headers).forEach(function (k) { x.setRequestHeader(k, headers[k]); });
      x.upload.onprogress = function (e) { if (e.lengthComputable) onProgress(e.loaded / e.total); };
      x.onload = function () {
        if (x.status >= 200 && x.status < 300) resolve(JSON.parse(x.responseText));
        else reject(new Error(apiMessage(x.responseText, x.status)));
      };
      x.onerror = function () { reject(new Error("the connection failed")); };
      x.send(fd);
    });
  }

  function uploadOne(file, raw, row) {
    var bar = row.querySelector("progress"), status = row.querySelector(".status");
    return sign(file, raw).then(function (s) {
      if (file.size <= CHUNK) {
        return post(s, file, file.name, {}, function (f) { bar.value = f * 100; });
      }
      var id = s.public_id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40) + "_" + Date.now();
      var start = 0;
      function next() {
        var end = Math.min(start + CHUNK, file.size);
        var h = {"X-Unique-Upload-Id": id, "Content-Range": "bytes " + start + "-" + (end - 1) + "/" + file.size};
        return post(s, file.slice(start, end), file.name, h, function (f) {
          bar.value = (start + f * (end - start)) / file.size * 100;
        }).then(function (res) {
          start = end;
          return start < file.size ? next() : res;
        });
      }
      return next();
    }).then(function (res) {
      bar.value = 100;
      status.textContent = "uploaded as " + res.public_id;
      row.classList.add("done");
      return true;
    }, function (err) {
      status.textContent = "failed: " + err.message;
      row.classList.add("failed");
      return false;
    });
  }

  function uploadAll(files, raw) {
    var list = $("uploads");
    var rows = Array.prototype.map.call(files, function (f) {
      var li = document.createElement("li");
      var label = document.createElement("span");
      label.textContent = f.name + " ";
      var bar = document.createElement("progress");
      bar.max = 100; bar.value = 0;
      bar.setAttribute("aria-label", "upload of " + f.name);
      var st = document.createElement("span");
      st.className = "status"; st.textContent = " waiting";
      li.append(label, bar, st);
      list.appendChild(li);
      return li;
    });
    var i = 0, ok = true, running = 0;
    return new Promise(function (resolve) {
      function pump() {
        if (i >= files.length && running === 0) { resolve(ok); return; }
        while (running < 3 && i < files.length) {
          var k = i++;
          running++;
          rows[k].querySelector(".status").textContent = " uploading";
          uploadOne(files[k], raw, rows[k]).then(function (good) { ok = ok && good; running--; pump(); });
        }
      }
      pump();
    }).then(function (allOK) {
      if (allOK) setTimeout(function () { location.reload(); }, 500);
    });
  }

  var input = $("files");
  if (input) input.addEventListener("change", function () { uploadAll(input.files, false); });
  var plug = $("plugin-file");
  if (plug) plug.addEventListener("change", function () { uploadAll(plug.files, true); });
  var drop = $("dropzone");
  if (drop) {
    ["dragenter", "dragover"].forEach(function (ev) {
      drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
    drop.addEventListener("drop", function (e) {
      e.preventDefault(); drop.classList.remove("over");
      uploadAll(e.dataTransfer.files, false);
    });
    drop.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  }

  var grid = $("grid-form");
  if (grid) grid.addEventListener("submit", function (e) {
    if ($("action").value === "delete" && !window.confirm("Delete the selected assets? This cannot be undone.")) e.preventDefault();
  });

  var table = $("batches");
  if (table && table.dataset.refresh) setTimeout(function () { location.reload(); }, +table.dataset.refresh);

  // The transformation builder.
  var b = $("builder");
  if (!b) return;
  var tx = $("b-tx"), timer = null, seq = 0;
  function compose() {
    var first = [];
    [["c", "b-crop"], ["g", "b-gravity"], ["w", "b-w"], ["h", "b-h"], ["q", "b-quality"]].forEach(function (p) {
      var v = $(p[1]).value.trim();
      if (v) first.push(p[0] + "_" + v);
    });
    var comps = [];
    if (first.length) comps.push(first.join(","));
    if ($("b-effect").value) comps.push("e_" + $("b-effect").value);
    if ($("b-plugin").value) comps.push("fn_wasm:" + $("b-plugin").value);
    tx.value = comps.join("/");
    update();
  }
  ["b-crop", "b-gravity", "b-w", "b-h", "b-quality", "b-effect", "b-plugin"].forEach(function (id) {
    $(id).addEventListener("change", compose);
  });
  $("b-format").addEventListener("change", update);
  tx.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 300); });
  function showError(msg) {
    var e = $("b-error");
    e.textContent = msg; e.hidden = !msg;
  }
  function update() {
    var mine = ++seq;
    var q = new URLSearchParams({rt: b.dataset.rt, type: b.dataset.type, id: b.dataset.id, v: b.dataset.version,
      tx: tx.value.trim(), format: $("b-format").value});
    fetch("/console/api/url?" + q, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (j) {
      if (mine !== seq) return;
      if (j.error) { showError(j.error.message); return; }
      showError("");
      $("b-url").textContent = j.url; $("b-go").textContent = j.go; $("b-node").textContent = j.node;
      var t0 = performance.now();
      return fetch(j.url).then(function (r) {
        if (!r.ok) throw new Error("The edge answered " + r.status + ": " + (r.headers.get("X-Cld-Error") || "no reason given"));
        return r.blob().then(function (blob) {
          if (mine !== seq) return;
          var ms = Math.round(performance.now() - t0);
          var img = $("b-preview");
          img.onload = function () {
            $("b-stats").textContent = img.naturalWidth + " × " + img.naturalHeight + " · " +
              (blob.size / 1024).toFixed(1) + " KB · " + ms + " ms";
          };
          img.src = URL.createObjectURL(blob);
        });
      });
    }).catch(function (err) { if (mine === seq) showError(err.message); });
  }
  $("b-copy").addEventListener("click", function () {
    if (navigator.clipboard) navigator.clipboard.writeText($("b-url").textContent);
  });
  update();
})();
