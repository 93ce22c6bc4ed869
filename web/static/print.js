// The print button of the print view (window.print needs a script; CSP forbids inline ones).
var button = document.getElementById("print-button");
if (button) button.addEventListener("click", function () { window.print(); });
