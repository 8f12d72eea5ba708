package validate

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Catalogue is the metrics docs/metrics.md lists: name -> type (counter,
// gauge, histogram, summary). Dashboards and alert rules may ask for
// nothing else.
type Catalogue map[string]string

// ReadCatalogue reads every table row of the metrics page whose first
// cell is a metric name in backticks and whose second is its type.
func ReadCatalogue(path string) (Catalogue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := Catalogue{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 2 {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		typ := strings.TrimSpace(cells[1])
		switch typ {
		case "counter", "gauge", "histogram", "summary":
			c[name] = typ
		default:
			return nil, fmt.Errorf("%s: metric %s has type %q", path, name, typ)
		}
	}
	if len(c) == 0 {
		return nil, fmt.Errorf("%s: no metric table found", path)
	}
	return c, sc.Err()
}

// knows reports whether name is a listed metric or one of the series a
// histogram or summary is exported as.
func (c Catalogue) knows(name string) bool {
	if _, ok := c[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		switch c[base] {
		case "histogram":
			return true
		case "summary":
			return suffix != "_bucket"
		}
	}
	return false
}

var promql = parser.NewParser(parser.Options{})

// CheckExpr parses a PromQL expression and returns the metrics it reads
// that the catalogue does not list. A selector must name its metric (a
// regular expression over __name__ could match anything).
func (c Catalogue) CheckExpr(expr string) error {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return err
	}
	var unknown []string
	var walkErr error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name != labels.MetricName {
				continue
			}
			if m.Type != labels.MatchEqual {
				walkErr = fmt.Errorf("selector %s matches metric names by pattern; name each metric", vs)
			}
			name = m.Value
		}
		if !c.knows(name) && !slices.Contains(unknown, name) {
			unknown = append(unknown, name)
		}
		return nil
	})
	if walkErr != nil {
		return walkErr
	}
	if len(unknown) > 0 {
		return fmt.Errorf("metrics not in docs/metrics.md: %s", strings.Join(unknown, ", "))
	}
	return nil
}

// RunbookAnchors returns "docs/runbook.md#<anchor>" for every heading of
// the runbook, with anchors made as GitHub and most Markdown renderers make
// them: lower case, punctuation dropped, spaces to hyphens.
func RunbookAnchors(path, asNamed string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	anchors := map[string]bool{}
	inCode := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if inCode || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		anchors[asNamed+"#"+b.String()] = true
	}
	return anchors, nil
}
