// The run page while its run goes on: the log through Server-Sent Events, the steps
// from /api/runs/{id} every two seconds. Values are set with textContent, never as HTML.
(function () {
  var log = document.getElementById('log');
  var run = log.dataset.run;
  var source = new EventSource('/api/runs/' + run + '/log?after=' + log.dataset.after);
  source.onmessage = function (event) {
    var line = JSON.parse(event.data);
    var span = document.createElement('span');
    span.className = 'line ' + line.stream;
    span.dataset.id = line.id;
    span.textContent = (line.host || 'labsync') + (line.stream === 'output' ? ' │ ' : ': ') + line.text + '\n';
    log.appendChild(span);
  };
  function cell(row, text, cls) {
    var td = document.createElement('td');
    if (cls) { var s = document.createElement('span'); s.className = cls; s.textContent = text; td.appendChild(s); }
    else { td.textContent = text; }
    row.appendChild(td);
  }
  function took(step) {
    if (!step.startedAt) { return ''; }
    var end = step.finishedAt ? Date.parse(step.finishedAt) : Date.now();
    var s = (end - Date.parse(step.startedAt)) / 1000;
    return (s < 120 ? s.toFixed(1) + ' s' : (s / 60).toFixed(0) + ' min') + (step.finishedAt ? '' : ' …');
  }
  var timer = setInterval(function () {
    fetch('/api/runs/' + run).then(function (r) { return r.json(); }).then(function (detail) {
      var body = document.getElementById('steps');
      while (body.firstChild) { body.removeChild(body.firstChild); }
      detail.steps.forEach(function (step) {
        var row = document.createElement('tr');
        row.className = 'step';
        row.dataset.status = step.status;
        cell(row, step.host); cell(row, step.resource); cell(row, step.action);
        cell(row, (step.packages || []).join(', ')); row.lastChild.className = 'wide';
        cell(row, step.status, 'badge ' + step.status);
        cell(row, step.exitCode === undefined || step.exitCode === null ? '' : String(step.exitCode));
        cell(row, took(step));
        body.appendChild(row);
      });
      var none = document.getElementById('no-steps');
      if (none && detail.steps.length) { none.remove(); }
    }).catch(function () {});
  }, 2000);
  source.addEventListener('end', function (event) {
    source.close();
    clearInterval(timer);
    var result = document.getElementById('run-result');
    result.textContent = event.data;
    result.className = 'badge ' + event.data;
    document.getElementById('live').textContent = 'Finished: ' + event.data + '. Reload for the final steps.';
  });
})();


