// 一次办 工作台 — upload progress on the clerk's one form (the only script
// of the workbench; served from /assets/upload.js, no inline script).
// Each file chosen is stored at once (POST /materials/stage) with a
// progress bar beside it; the stored file's reference then goes into the
// form's hidden `uploaded.<material id>` input and the file input is
// emptied, so the submission carries the reference. A submission while a
// file is still on its way waits for it. Without this script, or when the
// early upload fails, the form sends the files with the submission.
(function () {
  "use strict";
  var form = document.querySelector("form[data-stage]");
  if (!form || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  var csrf = form.querySelector('input[name="csrf"]');
  var pending = 0;
  var submitWhenDone = false;

  function settled() {
    pending -= 1;
    if (pending === 0 && submitWhenDone) {
      submitWhenDone = false;
      form.requestSubmit();
    }
  }

  form.addEventListener("submit", function (event) {
    if (pending > 0) {
      event.preventDefault();
      submitWhenDone = true;
    }
  });

  form.querySelectorAll('input[type="file"][data-kept]').forEach(function (input) {
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.hidden = true;
    bar.setAttribute("aria-label", "上传进度");
    var status = document.createElement("span");
    status.className = "note upload-status";
    status.setAttribute("role", "status");
    input.after(bar, status);

    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) {
        return;
      }
      var body = new FormData();
      body.append("csrf", csrf ? csrf.value : "");
      body.append("file", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/materials/stage");
      xhr.setRequestHeader("Accept", "application/json");
      bar.hidden = false;
      bar.value = 0;
      status.textContent = "上传中…";
      pending += 1;
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable && event.total > 0) {
          bar.value = Math.round((event.loaded * 100) / event.total);
          status.textContent = "上传中 " + bar.value + "%";
        }
      };
      xhr.onload = function () {
        var answer = null;
        try {
          answer = JSON.parse(xhr.responseText);
        } catch (e) {
          answer = null;
        }
        if (xhr.status === 200 && answer && answer.reference) {
          var kept = form.querySelector('input[type="hidden"][name="' + input.dataset.kept + '"]');
          if (!kept) {
            kept = document.createElement("input");
            kept.type = "hidden";
            kept.name = input.dataset.kept;
            input.after(kept);
          }
          kept.value = answer.reference;
          input.value = "";
          bar.value = 100;
          status.textContent = "已上传：" + answer.file_name;
        } else {
          bar.hidden = true;
          var why = answer && answer.error ? answer.error : "上传未完成（HTTP " + xhr.status + "）";
          status.textContent = why + "；提交时将随表单再次上传。";
        }
        settled();
      };
      xhr.onerror = function () {
        bar.hidden = true;
        status.textContent = "上传中断；提交时将随表单再次上传。";
        settled();
      };
      xhr.send(body);
    });
  });
})();
