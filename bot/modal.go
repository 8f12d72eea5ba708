package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
)

// Forms (Slack modals). A command with a Modal opens it when typed without
// arguments or when its "…" button is pressed (views.open). Submitting it
// builds the command's arguments from the fields and runs the command
// through the same registry, permission check and domain rules as typing
// it: the form's submit button is the confirmation of a destructive
// command. Bad input is answered inline, next to the field at fault
// (response_action: errors), never by a later message.

// Views opens, updates and publishes Slack views.
type Views interface {
	// OpenView opens a modal with the trigger_id of the person's action,
	// which Slack accepts for 3 seconds.
	OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) (viewID string, err error)
	// UpdateView replaces an open modal; hash guards against a newer one.
	UpdateView(ctx context.Context, viewID, hash string, view slack.ModalViewRequest) error
	// PublishHome sets the App Home tab of one person.
	PublishHome(ctx context.Context, userID string, view slack.HomeTabViewRequest) error
}

// FormValues are a form's fields by block_id; a field with several choices
// (checkboxes) holds them comma-separated.
type FormValues map[string]string

// Modal describes a command's form.
type Modal struct {
	Title  string // at most 24 characters
	Submit string // at most 24 characters: what pressing it does ("Start the move")
	// Known fills fields from the arguments a button carries (the SEN of
	// the licence shown); nil: the first argument is the SEN.
	Known func(args []string) FormValues
	// Form renders the fields, filled with v; it reads what it needs
	// (the licence's contacts) and shows problems inline.
	Form func(ctx context.Context, v FormValues) []slack.Block
	// Refresh names the field whose Enter re-renders the form (the SEN,
	// so the form can offer that licence's contacts); "" for none.
	Refresh string
	// Args turns the submitted fields into the command's arguments, or
	// names the fields at fault (block_id → message).
	Args func(ctx context.Context, v FormValues) ([]string, map[string]string)
	// Blame names the field an error of the command itself belongs to.
	Blame func(err error) string
}

func (m *Modal) known(args []string) FormValues {
	if m.Known != nil {
		return m.Known(args)
	}
	v := FormValues{}
	if len(args) > 0 {
		v["sen"] = args[0]
	}
	return v
}

// openForm opens cmd's form, filled from args, with the trigger_id of req.
func (r *Registry) openForm(ctx context.Context, log *slog.Logger, req Request, cmd Command, args []string) Reply {
	if cmd.Modal == nil || r.views == nil {
		return usageReply(cmd, fmt.Sprintf("`%s` has no form here; type it instead.", cmd.invocation()))
	}
	view := r.formView(ctx, req, cmd, cmd.Modal.known(args))
	if _, err := r.views.OpenView(ctx, req.TriggerID, view); err != nil {
		var slackErr slack.SlackErrorResponse
		if errors.As(err, &slackErr) && strings.HasSuffix(slackErr.Err, "_trigger_id") {
			log.Warn("slack form not opened: the trigger is no longer valid", "err", slackErr.Err)
			return usageReply(cmd, "The form could not open: Slack gives an app 3 seconds to open it, and they had passed. Please try again, or type the command.")
		}
		log.Error("slack form not opened", "err", err)
		return usageReply(cmd, "The form could not open just now; please try again, or type the command.")
	}
	log.Info("slack form opened")
	return Reply{Silent: true}
}

// formView is cmd's form for req with the fields v.
func (r *Registry) formView(ctx context.Context, req Request, cmd Command, v FormValues) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      cmd.Name,
		Title:           plainText(truncate(cmd.Modal.Title, 24)),
		Submit:          plainText(truncate(cmd.Modal.Submit, 24)),
		Close:           plainText("Close"),
		Blocks:          slack.Blocks{BlockSet: cmd.Modal.Form(ctx, v)},
		PrivateMetadata: r.signMeta(cmd.Name, req.UserID, req.ChannelID),
	}
}

// submit answers a submitted form: errors next to their fields, or the
// command's answer in place of the form.
func (r *Registry) submit(ctx context.Context, cb slack.InteractionCallback) any {
	req := requestFrom(cb)
	if refusal, ok := r.fromOurWorkspace("form", req.TeamID, req.EnterpriseID, req.UserID); !ok {
		return formMessage(refusal.Text)
	}
	cmd, ok := r.command(cb.View.CallbackID)
	log := r.logger.With("user", req.UserID, "command", cmd.Name, "via", "form")
	if !ok || cmd.Modal == nil {
		log.Warn("slack form refused: not one of ours", "callback_id", truncate(cb.View.CallbackID, maxEcho))
		return formMessage("I don't know this form, so nothing was done.")
	}
	channel, ok := r.readMeta(cmd.Name, req.UserID, cb.View.PrivateMetadata)
	if !ok {
		log.Warn("slack form refused: it was not opened for this user by this app")
		return formMessage("This form was not opened for you, so nothing was done.")
	}
	req.ChannelID = channel
	if refusal, ok := r.permit(ctx, log, req.UserID, cmd); !ok {
		return formMessage(refusal.Text)
	}
	args, bad := cmd.Modal.Args(ctx, formValues(cb.View.State))
	if len(bad) > 0 {
		log.Info("slack form", "outcome", "invalid", "fields", len(bad))
		return slack.NewErrorsViewSubmissionResponse(bad)
	}
	req.Args = args
	req = r.withDisplayName(ctx, req, cmd)
	do := cmd.Run
	if cmd.Destructive {
		do = cmd.Confirm
	}
	reply, err := run(ctx, cmd, req, do)
	var domain *licensing.Error
	switch {
	case errors.As(err, &domain):
		log.Info("slack form", "outcome", string(domain.Code))
		return slack.NewErrorsViewSubmissionResponse(map[string]string{cmd.Modal.Blame(err): sentence(domain.Message)})
	case err != nil:
		return formMessage(failureReply(ctx, log, cmd, err).Text)
	}
	log.Info("slack form", "outcome", "ok")
	return formResult(cmd.Modal.Title, reply)
}

// refreshForm re-renders a form after Enter in its refreshing field.
func (r *Registry) refreshForm(ctx context.Context, req Request, cb slack.InteractionCallback) {
	cmd, ok := r.command(cb.View.CallbackID)
	if !ok || cmd.Modal == nil || r.views == nil {
		return
	}
	log := r.logger.With("user", req.UserID, "command", cmd.Name, "via", "form")
	channel, ok := r.readMeta(cmd.Name, req.UserID, cb.View.PrivateMetadata)
	if !ok {
		log.Warn("slack form update refused: it was not opened for this user by this app")
		return
	}
	req.ChannelID = channel
	if _, ok := r.permit(ctx, log, req.UserID, cmd); !ok {
		return
	}
	view := r.formView(ctx, req, cmd, formValues(cb.View.State))
	if err := r.views.UpdateView(ctx, cb.View.ID, cb.View.Hash, view); err != nil {
		log.Warn("slack form not updated", "err", err)
	}
}

// formValues reads a view's state: one value per block.
func formValues(state *slack.ViewState) FormValues {
	v := FormValues{}
	if state == nil {
		return v
	}
	for block, actions := range state.Values {
		for _, a := range actions {
			switch {
			case a.Value != "":
				v[block] = strings.TrimSpace(a.Value)
			case a.SelectedOption.Value != "":
				v[block] = a.SelectedOption.Value
			case len(a.SelectedOptions) > 0:
				vals := make([]string, len(a.SelectedOptions))
				for i, o := range a.SelectedOptions {
					vals[i] = o.Value
				}
				v[block] = strings.Join(vals, ",")
			}
		}
	}
	return v
}

// formTitle titles the forms that answer instead of a command's form.
const formTitle = "Licences"

// formMessage replaces a form with a message.
func formMessage(text string) *slack.ViewSubmissionResponse {
	return formResult(formTitle, ephemeral(text))
}

// formResult replaces a form with a command's answer (without its buttons:
// a form has no response_url for them).
func formResult(title string, reply Reply) *slack.ViewSubmissionResponse {
	return slack.NewUpdateViewSubmissionResponse(resultView(title, reply))
}

func resultView(title string, reply Reply) *slack.ModalViewRequest {
	var blocks []slack.Block
	for _, b := range reply.Blocks {
		if _, isActions := b.(*slack.ActionBlock); !isActions {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		blocks = []slack.Block{mrkdwnSection(reply.Text)}
	}
	return &slack.ModalViewRequest{Type: slack.VTModal, Title: plainText(truncate(title, 24)), Close: plainText("Done"),
		Blocks: slack.Blocks{BlockSet: blocks}}
}

// formMeta is what a form carries from its opening to its submission: who
// it was opened for, and the channel its operation reports to.
type formMeta struct {
	User    string `json:"u"`
	Channel string `json:"c,omitempty"`
	MAC     string `json:"m,omitempty"`
}

func (r *Registry) metaMAC(form, user, channel string) string {
	if len(r.metaKey) == 0 {
		return ""
	}
	m := hmac.New(sha256.New, r.metaKey)
	fmt.Fprintf(m, "form\x00%s\x00%s\x00%s", form, user, channel)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (r *Registry) signMeta(form, user, channel string) string {
	b, _ := json.Marshal(formMeta{User: user, Channel: channel, MAC: r.metaMAC(form, user, channel)})
	return string(b)
}

// readMeta checks that a form was opened by this app for user and returns
// its channel.
func (r *Registry) readMeta(form, user, raw string) (string, bool) {
	var m formMeta
	if json.Unmarshal([]byte(raw), &m) != nil || m.User == "" || m.User != user {
		return "", false
	}
	return m.Channel, hmac.Equal([]byte(m.MAC), []byte(r.metaMAC(form, m.User, m.Channel)))
}

func plainText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}
