// kojin — the only script of our own. Forms marked data-autosubmit send
// themselves once the page has loaded (the card reader hands its signed
// answer back to the portal this way); each such form keeps a visible
// button, so nothing depends on this script running.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.submit();
  });
});
