package html

// pageSource is the page template. The CSS is inline; charts are inline SVG.
const pageSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1.5em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: .2em; margin-top: 1.6em; }
h3 { margin-top: 1.2em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f3f3f3; }
.ok { color: #1a7f37; font-weight: bold; }
.bad { color: #c62828; font-weight: bold; }
td.gap { background: #fdecea; }
td.ahead { background: #e6f4ea; }
td.na { color: #888; }
figure { margin: 1em 0 2em; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figure svg text { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; }
figcaption { color: #555; font-size: .9em; max-width: 60em; }
code, .mono { font-family: "Liberation Mono", Menlo, monospace; font-size: .85em; word-break: break-all; }
.note { color: #555; font-size: .9em; }
.skip { color: #8a6d3b; }
.warn { border: 2px solid #c62828; background: #fdecea; padding: .2em 1em; margin: 1em 0; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Command}}<p class="note">Produced by <code>{{.Command}}</code></p>{{end}}
{{if .Warnings}}<div class="warn" role="alert">
<p><b>Warning: these runs did not do the same work; the ratios below compare different workloads.</b> They differ in:</p>
<ul>{{range .Warnings}}<li><code>{{.}}</code></li>{{end}}</ul>
</div>{{end}}
{{range $run := .Runs}}
<section class="run">
{{if $run.Label}}<h2>Run: {{$run.Label}}</h2>{{end}}

<h2>Headline: the kernel's gap to the best tuned reference</h2>
{{if $run.Headline}}
<p class="note">Ratios are taken within this run (same model file, same token IDs, same threads; every row one configuration, measured in this run). Per metric, <b>{{$run.KerName}}</b> is held against the best of the tuned references ({{$run.RefName}}) on that metric. 1.00x is parity; below 1 is the remaining gap.</p>
{{range $run.Swept}}<p class="note">{{.}}</p>
{{end}}<table class="headline">
<thead><tr><th>metric</th><th>best tuned reference</th><th>reference</th><th>kernel</th><th>kernel vs best</th><th>verdict</th><th>kernel vs the others</th></tr></thead>
<tbody>
{{range $run.Headline}}<tr><td>{{.Metric}} ({{if .HigherIsBetter}}higher{{else}}lower{{end}} is better)</td><td>{{.RefName}}</td><td>{{f2 .Reference}}</td><td>{{f2 .Kernel}}</td><td class="{{cls .}}">{{ratio .}}</td><td>{{.Verdict}}</td><td>{{join .Others ", "}}</td></tr>
{{end}}</tbody>
</table>
{{else}}
<p class="note">This run has no tuned-reference row and kernel row side by side, so no headline ratio is stated.</p>
{{end}}

{{if $run.Table.Heads}}
<h2>Side by side</h2>
<p class="note">One column per row, grouped by kind: the tuned reference, the in-repo kernel, ablations and candidate headroom are never mixed.</p>
<table class="rows">
<thead>
<tr><th>kind</th>{{range $run.Table.Heads}}<th>{{.Kind}}</th>{{end}}</tr>
<tr><th>metric</th>{{range $run.Table.Heads}}<th>{{.Name}}</th>{{end}}</tr>
</thead>
<tbody>
{{range $run.Table.Lines}}<tr><td>{{.Name}}</td>{{range .Cells}}<td{{if .Class}} class="{{.Class}}"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{end}}
{{if $run.Skipped}}
<h3>Skipped backends</h3>
<ul>{{range $run.Skipped}}<li class="skip"><b>{{.Backend}}</b>: {{.SkipReason}}</li>{{end}}</ul>
{{end}}

<h2>Charts</h2>
{{range $run.Charts}}
<figure id="chart-{{.ID}}" data-points="{{.Points}}">
<h3>{{.Title}}</h3>
{{if .SVG}}{{svg .SVG}}{{end}}
<figcaption>{{.Caption}}</figcaption>
</figure>
{{end}}

<h2>Reproducibility</h2>
{{range $run.Facts}}
<h3>{{name .}}</h3>
<table class="facts">
<tbody>
<tr><td>backend version</td><td class="mono">{{.BackendVersion}}</td></tr>
<tr><td>row kind</td><td>{{.RowKind}}</td></tr>
<tr><td>model</td><td class="mono">{{.Model}} {{.ModelSpec}}</td></tr>
<tr><td>model digest</td><td class="mono">{{.ModelDigest}}</td></tr>
<tr><td>token-ID digest</td><td class="mono">{{.TokenDigest}}</td></tr>
<tr><td>threads / repetitions / warm-up</td><td>{{.Threads}} / {{.Repetitions}} / {{.Warmup}}{{if .Short}} (short run){{end}}</td></tr>
<tr><td>build flags</td><td class="mono">{{.BuildFlags}}</td></tr>
{{if .Host}}<tr><td>host</td><td class="mono">{{.Host.Name}} · {{.Host.CPUModel}} · {{.Host.Cores}} cores · {{.Host.GoVersion}}</td></tr>{{end}}
<tr><td>command</td><td class="mono">{{.Command}}</td></tr>
<tr><td>measured</td><td>{{.StartedAt}} – {{.FinishedAt}}</td></tr>
{{range settings .Settings}}<tr><td>setting: {{.K}}</td><td class="mono">{{.V}}</td></tr>{{end}}
</tbody>
</table>
{{if .Notes}}<ul class="note">{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{end}}
</section>
{{end}}
</body>
</html>
`
