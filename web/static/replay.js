// Step through the replay with the arrow keys (the links work without this script).
document.addEventListener("keydown", function (event) {
  if (event.target.closest("input, select, textarea")) return;
  var id = event.key === "ArrowLeft" ? "replay-prev" : event.key === "ArrowRight" ? "replay-next" : null;
  var link = id && document.getElementById(id);
  if (link) link.click();
});
