/* Crossline: the viewer's theme and density, applied before the page paints (no flash of the wrong theme).
   Stored in this browser only; "system" follows the operating system's light or dark setting. */
(function () {
  "use strict";
  var root = document.documentElement;
  try {
    var theme = localStorage.getItem("crossline-theme");
    var density = localStorage.getItem("crossline-density");
    if (theme === "light" || theme === "dark") { root.setAttribute("data-theme", theme); }
    if (density === "compact") { root.setAttribute("data-density", "compact"); }
  } catch (e) { /* storage disabled: defaults */ }
})();
