package web

import (
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"

	"licensedesk/licensing"
	"licensedesk/postgres"
)

// DevSinks reads what dev mode kept instead of sending.
type DevSinks interface {
	KeptMail(ctx context.Context, limit int) ([]postgres.KeptMail, error)
	KeptSlackMessages(ctx context.Context, limit int) ([]postgres.KeptSlackMessage, error)
	KeptSlackViews(ctx context.Context, limit int) ([]postgres.KeptSlackView, error)
}

// devSlackPage is /dev/slack: the forms and App Home tabs the bot would
// have shown, then the messages.
type devSlackPage struct {
	Views   []viewCard
	Threads []slackView
	One     bool // a single view, for a screenshot
}

// devViewsShown bounds the views /dev/slack shows: the newest forms and
// App Home tabs.
const devViewsShown = 6

//go:embed templates/*.html
var templateFiles embed.FS

var devTemplates = template.Must(template.ParseFS(templateFiles, "templates/layout.html", "templates/dev_*.html"))

const devLimit = 200

// Dev serves /dev/mail and /dev/slack (HTML and JSON). Only dev mode mounts it.
func Dev(sinks DevSinks, logger *slog.Logger, opts ...Option) http.Handler {
	brand := newPageSettings(opts).brand
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dev/mail.json", func(w http.ResponseWriter, r *http.Request) {
		mail, err := sinks.KeptMail(r.Context(), devLimit)
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		writeJSON(w, http.StatusOK, mail)
	})
	mux.HandleFunc("GET /dev/mail", func(w http.ResponseWriter, r *http.Request) {
		mail, err := sinks.KeptMail(r.Context(), devLimit)
		render(w, r, logger, brand, "dev_mail.html", "Dev mail", mail, err)
	})
	mux.HandleFunc("GET /dev/slack.json", func(w http.ResponseWriter, r *http.Request) {
		msgs, err := sinks.KeptSlackMessages(r.Context(), devLimit)
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		writeJSON(w, http.StatusOK, msgs)
	})
	mux.HandleFunc("GET /dev/slack", func(w http.ResponseWriter, r *http.Request) {
		msgs, err := sinks.KeptSlackMessages(r.Context(), devLimit)
		var views []postgres.KeptSlackView
		if err == nil {
			views, err = sinks.KeptSlackViews(r.Context(), devViewsShown)
		}
		render(w, r, logger, brand, "dev_slack.html", "Dev Slack", devSlackPage{Views: viewCards(views), Threads: slackThreads(msgs)}, err)
	})
	mux.HandleFunc("GET /dev/slack/views.json", func(w http.ResponseWriter, r *http.Request) {
		views, err := sinks.KeptSlackViews(r.Context(), devLimit)
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		writeJSON(w, http.StatusOK, views)
	})
	// One view alone, as the person sees it: for a screenshot.
	mux.HandleFunc("GET /dev/slack/views/{id}", func(w http.ResponseWriter, r *http.Request) {
		views, err := sinks.KeptSlackViews(r.Context(), devLimit)
		var one []postgres.KeptSlackView
		for _, v := range views {
			if v.ViewID == r.PathValue("id") {
				one = append(one, v)
			}
		}
		if err == nil && len(one) == 0 {
			http.Error(w, "No such view.", http.StatusNotFound)
			return
		}
		render(w, r, logger, brand, "dev_slack.html", "Dev Slack view", devSlackPage{Views: viewCards(one), One: true}, err)
	})
	// One mail's HTML body as the recipient's mail program shows it.
	mux.HandleFunc("GET /dev/mail/{id}", func(w http.ResponseWriter, r *http.Request) {
		mail, err := sinks.KeptMail(r.Context(), devLimit)
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		for _, m := range mail {
			if strconv.FormatInt(m.ID, 10) == r.PathValue("id") && m.HTML != "" {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write([]byte(m.HTML))
				return
			}
		}
		http.Error(w, "No such mail (or it has no HTML body).", http.StatusNotFound)
	})
	return mux
}

type page struct {
	Title string
	Brand licensing.Brand
	Data  any
}

func render(w http.ResponseWriter, r *http.Request, logger *slog.Logger, brand licensing.Brand, name, title string, data any, err error) {
	if err != nil {
		logger.ErrorContext(r.Context(), "page failed", "page", name, "err", err)
		http.Error(w, "Something went wrong on our side; it has been logged.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := devTemplates.ExecuteTemplate(w, name, page{Title: title, Brand: brand, Data: data}); err != nil {
		logger.ErrorContext(r.Context(), "render failed", "page", name, "err", err)
	}
}
