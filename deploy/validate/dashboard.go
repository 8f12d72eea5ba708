package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// dashboard is the part of a Grafana dashboard's JSON model checked here.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Type  string          `json:"type"`
			Name  string          `json:"name"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

// panelTypes are the core panel types the dashboard may use (no plugins to
// install).
var panelTypes = []string{"row", "timeseries", "stat", "gauge", "bargauge", "table", "text", "heatmap"}

// builtinVariables are Grafana's own; the rest must be defined in the
// dashboard's templating. Each stands for a value the parser accepts.
var builtinVariables = map[string]string{
	"__rate_interval": "5m", "__interval": "1m", "__range": "1h",
}

var variableRef = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)

var labelValues = regexp.MustCompile(`^label_values\((.*),\s*(\w+)\s*\)$`)

// CheckDashboard checks a Grafana dashboard: it is valid JSON, its panels
// have unique ids, known types and non-overlapping places on the 24-column
// grid, every query panel uses the dashboard's Prometheus data source
// variable, and every PromQL expression (panels and template variables)
// parses once Grafana's variables are filled in and reads only listed
// metrics.
func CheckDashboard(data []byte, c Catalogue) []error {
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		return []error{fmt.Errorf("not a dashboard: %w", err)}
	}
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if d.Title == "" || d.UID == "" {
		fail("title and uid are required")
	}
	if d.SchemaVersion < 36 {
		fail("schemaVersion %d: write it with Grafana 9 or later (36+)", d.SchemaVersion)
	}

	vars := map[string]string{}
	for k, v := range builtinVariables {
		vars[k] = v
	}
	hasDatasource := false
	for _, v := range d.Templating.List {
		vars[v.Name] = "x"
		switch v.Type {
		case "datasource":
			var q string
			_ = json.Unmarshal(v.Query, &q)
			if v.Name == "datasource" && q == "prometheus" {
				hasDatasource = true
			}
		case "query":
			var q struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &q); err != nil {
				_ = json.Unmarshal(v.Query, &q.Query) // the older plain-string form
			}
			m := labelValues.FindStringSubmatch(q.Query)
			if m == nil {
				fail("variable %s: query %q is not label_values(<selector>, <label>)", v.Name, q.Query)
				continue
			}
			if err := c.CheckExpr(fill(m[1], vars)); err != nil {
				fail("variable %s: %v", v.Name, err)
			}
		}
	}
	if !hasDatasource {
		fail("no data source variable named datasource of type prometheus")
	}

	var all []panel
	for _, p := range d.Panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	if len(all) == 0 {
		fail("no panels")
	}
	ids := map[int]string{}
	for i, p := range all {
		id := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if p.ID <= 0 {
			fail("%s: id must be positive", id)
		} else if other, dup := ids[p.ID]; dup {
			fail("%s: id already used by %s", id, other)
		}
		ids[p.ID] = p.Title
		if !slices.Contains(panelTypes, p.Type) {
			fail("%s: type %q is not a core panel type %v", id, p.Type, panelTypes)
		}
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			fail("%s: gridPos %+v is not on the 24-column grid", id, g)
		}
		for _, q := range all[:i] {
			h := q.GridPos
			if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
				fail("%s: overlaps panel %d %q", id, q.ID, q.Title)
			}
		}
		if p.Type == "row" || p.Type == "text" {
			continue
		}
		if p.Title == "" {
			fail("%s: no title", id)
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			fail("%s: datasource must be the ${datasource} variable", id)
		}
		if len(p.Targets) == 0 {
			fail("%s: no query", id)
		}
		refs := map[string]bool{}
		for _, t := range p.Targets {
			if refs[t.RefID] || t.RefID == "" {
				fail("%s: refId %q missing or used twice", id, t.RefID)
			}
			refs[t.RefID] = true
			for _, m := range variableRef.FindAllStringSubmatch(t.Expr, -1) {
				name := m[1] + m[2]
				if _, ok := vars[name]; !ok {
					fail("%s query %s: variable $%s is not defined", id, t.RefID, name)
				}
			}
			if strings.TrimSpace(t.Expr) == "" {
				fail("%s query %s: empty expression", id, t.RefID)
				continue
			}
			if err := c.CheckExpr(fill(t.Expr, vars)); err != nil {
				fail("%s query %s: %v", id, t.RefID, err)
			}
		}
	}
	return errs
}

// fill replaces Grafana variables with values the PromQL parser accepts.
func fill(expr string, vars map[string]string) string {
	return variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		if v, ok := vars[m[1]+m[2]]; ok {
			return v
		}
		return "x"
	})
}
