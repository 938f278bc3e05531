// Keyboard first: "/" focuses the search box from anywhere.
document.addEventListener("keydown", (event) => {
  const box = document.getElementById("topsearch");
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (event.key === "/" && box && !typing) {
    event.preventDefault();
    box.focus();
    box.select();
  }
});
