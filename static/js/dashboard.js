/* SLA dashboard charts (Chart.js, served from static/vendor); the figures come from the page's
   json_script "chart-data". A file rather than an inline script, so the page runs under script-src 'self'. */
document.addEventListener("DOMContentLoaded", function () {
  if (!window.Chart) { return; }
  var d = JSON.parse(document.getElementById("chart-data").textContent);
  new Chart(document.getElementById("trend-chart"), {type: "line", data: {labels: d.days, datasets: [
      {label: "Response met %", data: d.response, borderColor: "#1f5fbf", backgroundColor: "#1f5fbf", spanGaps: true, tension: .2},
      {label: "Resolution met %", data: d.resolution, borderColor: "#1d6b34", backgroundColor: "#1d6b34", spanGaps: true, tension: .2},
      {label: "Breaches", data: d.breaches, type: "bar", yAxisID: "y2", backgroundColor: "rgba(179,38,30,.35)"}]},
    options: {maintainAspectRatio: false, animation: false, scales: {y: {min: 0, max: 100, title: {display: true, text: "%"}},
      y2: {position: "right", beginAtZero: true, grid: {drawOnChartArea: false}, title: {display: true, text: "breaches"}}}}});
  new Chart(document.getElementById("age-chart"), {type: "bar", data: {labels: d.age_labels, datasets: [
      {label: "Open tickets", data: d.age, backgroundColor: "#1f5fbf"}]},
    options: {maintainAspectRatio: false, animation: false, plugins: {legend: {display: false}}}});
});
