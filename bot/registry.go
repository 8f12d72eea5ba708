package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/internal/clock"
	"licensedesk/licensing"
)

// slashCommand is the command as configured in the Slack app; usage lines
// and help quote it.
const slashCommand = "/license"

// maxEcho bounds how much of the user's text a reply repeats back.
const maxEcho = 40

// NoMax as Command.MaxArgs lets a command take any number of arguments, for
// commands with optional flags that check their own arguments.
const NoMax = -1

// Command is one /license subcommand. The registry uses its description to
// parse, authorise and document it, so help always matches behaviour; the
// same description serves buttons and forms, which run commands too.
type Command struct {
	Name        string // one or more words: "show", "contact add"
	Args        string // usage arguments: "<SEN>"
	Summary     string // one sentence for help
	Class       Class
	Destructive bool // its Run asks for confirmation with buttons before starting anything; help says so
	MinArgs     int
	MaxArgs     int // NoMax for no upper bound
	// Run does the work. A *licensing.Error with Code Invalid is shown with
	// the usage line, other *licensing.Errors with their message; anything
	// else is logged and the user gets a generic apology. For a Destructive
	// command, Run only checks and describes what will happen: the registry
	// adds the buttons that say yes or no to its reply, unless the reply is
	// Final (the operation already runs, say).
	Run func(ctx context.Context, req Request) (Reply, error)
	// Confirm does a Destructive command's work once its button is pressed
	// (arguments and permissions are checked again first).
	Confirm func(ctx context.Context, req Request) (Reply, error)
	// Verbs label a Destructive command's buttons with what each does:
	// "Start the move" and "Don't move", never a bare Confirm and Cancel.
	Verbs func(req Request) (yes, no string)
	// Modal, when set, is the command's form: /license <name> without
	// arguments and the command's "…" buttons open it.
	Modal *Modal
}

// Usage is the command's usage line, e.g. "/license show <SEN>".
func (c Command) Usage() string {
	return strings.TrimSpace(slashCommand + " " + c.Name + " " + c.Args)
}

func (c Command) invocation() string { return slashCommand + " " + c.Name }

// usageMrkdwn is the usage line as inline code; the <> of placeholders must
// be escaped or Slack reads them as links.
func (c Command) usageMrkdwn() string { return "`" + escape(c.Usage()) + "`" }

// Request is one slash command invocation, as Slack posted it, or the
// press of a button or the submission of a form that runs a command.
type Request struct {
	UserID, UserName, ChannelID, TeamID string
	EnterpriseID                        string
	Text                                string // everything after /license, as Slack sent it
	ResponseURL, TriggerID              string
	Args                                []string // tokens after the subcommand, links unwrapped
	// Now is when the command was received, by the registry's clock: what
	// a reply renders "today", "overdue" and "in 3 days" against.
	Now time.Time
	// UserDisplayName is the asker's display name (users.info), filled for
	// act commands when known: mails name the salesperson who asked.
	UserDisplayName string
}

// Registry routes /license text to its Command after checking who asks.
// Typed commands, buttons and forms all go through it.
type Registry struct {
	cmds     []Command // in registration order, help first
	byName   map[string]int
	maxWords int
	allow    Allow
	groups   GroupMembers
	logger   *slog.Logger
	clock    clock.Clock // nil: the wall clock

	workspace Workspace    // the one team (and enterprise) served
	people    People       // users.info, for display names and guests; nil: unknown
	views     Views        // views.open/update/publish; nil: no forms, no App Home
	home      *Home        // the App Home tab; nil: none
	metaKey   []byte       // signs forms' private_metadata; nil: unsigned
	events    *envelopeLog // events handled lately, so Slack's retries run once
}

// SetClock makes replies render by c instead of the wall clock. Call it
// before the registry serves.
func (r *Registry) SetClock(c clock.Clock) { r.clock = c }

// NewRegistry registers cmds after the built-in help. groups may be nil when
// the allow lists name no user groups; wrap real lookups in a GroupCache.
// It panics on a malformed or duplicate command: that is a programming
// error, better found at start than by a user.
func NewRegistry(allow Allow, groups GroupMembers, logger *slog.Logger, cmds ...Command) *Registry {
	if logger == nil {
		logger = slog.Default()
	}
	r := &Registry{byName: map[string]int{}, allow: allow, groups: groups, logger: logger, events: newEnvelopeLog(seenFor)}
	r.add(r.helpCommand())
	for _, c := range cmds {
		r.add(c)
	}
	return r
}

func (r *Registry) add(c Command) {
	c.Name = strings.Join(strings.Fields(strings.ToLower(c.Name)), " ")
	switch {
	case c.Name == "":
		panic("bot: command without a name")
	case c.Run == nil:
		panic(fmt.Sprintf("bot: command %q has no Run", c.Name))
	case c.Destructive != (c.Confirm != nil):
		panic(fmt.Sprintf("bot: command %q: Destructive commands, and only they, have Confirm", c.Name))
	case c.Destructive && c.Verbs == nil:
		panic(fmt.Sprintf("bot: command %q: a Destructive command's buttons need Verbs", c.Name))
	case c.Class != Read && c.Class != Act:
		panic(fmt.Sprintf("bot: command %q has no Class", c.Name))
	case c.MinArgs < 0 || (c.MaxArgs != NoMax && c.MaxArgs < c.MinArgs):
		panic(fmt.Sprintf("bot: command %q has MinArgs %d, MaxArgs %d", c.Name, c.MinArgs, c.MaxArgs))
	}
	if _, dup := r.byName[c.Name]; dup {
		panic(fmt.Sprintf("bot: command %q registered twice", c.Name))
	}
	r.byName[c.Name] = len(r.cmds)
	r.cmds = append(r.cmds, c)
	r.maxWords = max(r.maxWords, len(strings.Fields(c.Name)))
}

// Commands lists the registered commands, help first: the manifest and
// the documentation are made from them.
func (r *Registry) Commands() []Command { return append([]Command(nil), r.cmds...) }

// command finds a command by its exact name.
func (r *Registry) command(name string) (Command, bool) {
	i, ok := r.byName[name]
	if !ok {
		return Command{}, false
	}
	return r.cmds[i], true
}

// lookup finds the longest command name that prefixes tokens and returns it
// with the number of tokens it used.
func (r *Registry) lookup(tokens []string) (Command, int, bool) {
	for n := min(r.maxWords, len(tokens)); n > 0; n-- {
		if i, ok := r.byName[strings.ToLower(strings.Join(tokens[:n], " "))]; ok {
			return r.cmds[i], n, true
		}
	}
	return Command{}, 0, false
}

// Allowed reports whether userID may run commands of class c; interaction
// handlers use it to re-check whoever presses a button.
func (r *Registry) Allowed(ctx context.Context, userID string, c Class) (bool, error) {
	return r.allow.permits(ctx, r.groups, userID, c)
}

// Dispatch parses req.Text, checks permissions and arguments, runs the
// command and turns any failure into an ephemeral reply. Only the
// subcommand name is logged: arguments may carry customers' emails.
func (r *Registry) Dispatch(ctx context.Context, req Request) Reply {
	tokens := tokenize(req.Text)
	if len(tokens) == 0 {
		tokens = []string{"help"}
	}
	cmd, n, ok := r.lookup(tokens)
	if !ok {
		r.logger.Info("slack command", "user", req.UserID, "command", "unknown", "outcome", "unknown_subcommand")
		return r.unknownReply(tokens)
	}
	req.Args = tokens[n:]
	return r.invoke(ctx, req, cmd, "typed")
}

// invoke runs cmd with req.Args as if typed: the one path of typed
// commands and of the buttons that run them (via names which).
func (r *Registry) invoke(ctx context.Context, req Request, cmd Command, via string) Reply {
	log := r.logger.With("user", req.UserID, "command", cmd.Name, "via", via)
	if refusal, ok := r.permit(ctx, log, req.UserID, cmd); !ok {
		return refusal
	}
	if len(req.Args) < cmd.MinArgs && cmd.Modal != nil && r.views != nil && req.TriggerID != "" {
		return r.openForm(ctx, log, req, cmd, req.Args) // /license move, or /license move SEN-1000001
	}
	if problem := argProblem(cmd, len(req.Args)); problem != "" {
		log.Info("slack command", "outcome", "bad_argument_count")
		return usageReply(cmd, problem)
	}
	req = r.withDisplayName(ctx, req, cmd)
	req.Now = r.clock.Now()
	start := time.Now() //clock:wall measures the command for the log
	reply, err := run(ctx, cmd, req, cmd.Run)
	if err != nil {
		return failureReply(ctx, log, cmd, err)
	}
	log.Info("slack command", "outcome", "ok", "duration", time.Since(start)) //clock:wall measures the command for the log
	if reply.ResponseType == "" {
		reply.ResponseType = slack.ResponseTypeEphemeral
	}
	if cmd.Destructive && !reply.Final {
		reply = withConfirmButtons(reply, cmd, req)
	}
	return reply
}

// permit checks that userID may run cmd; when not, it returns the refusal.
func (r *Registry) permit(ctx context.Context, log *slog.Logger, userID string, cmd Command) (Reply, bool) {
	allowed, err := r.Allowed(ctx, userID, cmd.Class)
	if err != nil {
		log.Error("slack permission check failed", "err", err)
	}
	if !allowed {
		log.Warn("slack command refused", "class", cmd.Class.String())
		if err != nil {
			return ephemeral(fmt.Sprintf("I could not check whether you may run `%s` just now; please try again in a minute.", cmd.invocation())), false
		}
		log.Info("slack command refused: the user is not in the allow-list", "setting", cmd.Class.envName())
		return ephemeral(fmt.Sprintf("You are not allowed to run `%s`: it needs %s permission. Ask the admin who runs licensedesk to grant it.",
			cmd.invocation(), cmd.Class.String())), false
	}
	if u, ok := r.person(ctx, userID); ok && u.Guest {
		log.Warn("slack command refused: the user is a guest of the workspace")
		return ephemeral(fmt.Sprintf("Guests of the workspace may not run `%s`.", cmd.invocation())), false
	}
	return Reply{}, true
}

func argProblem(cmd Command, n int) string {
	switch {
	case n < cmd.MinArgs:
		return fmt.Sprintf("`%s` needs more arguments.", cmd.invocation())
	case cmd.MaxArgs != NoMax && n > cmd.MaxArgs:
		return fmt.Sprintf("`%s` got more arguments than it takes.", cmd.invocation())
	}
	return ""
}

// run calls cmd.Run, turning a panic into an error so the user still gets
// an answer.
func run(ctx context.Context, cmd Command, req Request, f func(context.Context, Request) (Reply, error)) (reply Reply, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in %q: %v\n%s", cmd.Name, p, debug.Stack())
		}
	}()
	return f(ctx, req)
}

func failureReply(ctx context.Context, log *slog.Logger, cmd Command, err error) Reply {
	var domain *licensing.Error
	switch {
	case errors.As(err, &domain) && domain.Code == licensing.Invalid:
		log.Info("slack command", "outcome", "invalid")
		return usageReply(cmd, escape(sentence(domain.Message)))
	case errors.As(err, &domain):
		log.Info("slack command", "outcome", string(domain.Code))
		return ephemeral(slackSafe(sentence(licensing.ErrorMessage(err))))
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		log.Warn("slack command timed out", "err", err)
		return ephemeral("That took longer than Slack waits for; please try again in a moment.")
	}
	log.Error("slack command failed", "err", err)
	return ephemeral(licensing.ErrorMessage(err))
}

// sentence makes every error reply read alike: a capital first letter
// (unless it starts with an address, a flag or code) and a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	first, _, _ := strings.Cut(s, " ")
	if c := s[0]; 'a' <= c && c <= 'z' && !strings.ContainsAny(first, "@/") {
		s = string(c-'a'+'A') + s[1:]
	}
	switch s[len(s)-1] {
	case '.', '!', '?', ')':
		return s
	}
	return s + "."
}

func usageReply(cmd Command, problem string) Reply {
	return ephemeral(problem + "\nUsage: " + cmd.usageMrkdwn())
}

// unknownReply names what was not understood and lists the commands that
// share its first word, or all of them.
func (r *Registry) unknownReply(tokens []string) Reply {
	candidates := r.withPrefix(strings.ToLower(tokens[0]))
	if len(candidates) == 0 {
		candidates = r.cmds
	}
	var b strings.Builder
	switch {
	case len(candidates) == len(r.cmds):
		fmt.Fprintf(&b, "I don't know `%s %s`. Usage:", slashCommand, escape(truncate(tokens[0], maxEcho)))
	case len(tokens) == 1:
		fmt.Fprintf(&b, "`%s %s` needs a subcommand. Usage:", slashCommand, escape(truncate(tokens[0], maxEcho)))
	default:
		fmt.Fprintf(&b, "I don't know `%s %s`. Usage:", slashCommand, escape(truncate(tokens[0]+" "+tokens[1], maxEcho)))
	}
	for _, c := range candidates {
		b.WriteString("\n" + c.usageMrkdwn())
	}
	return ephemeral(b.String())
}

// withPrefix lists the commands whose first word is word ("contact" gives
// "contact add" and "contact remove").
func (r *Registry) withPrefix(word string) []Command {
	var out []Command
	for _, c := range r.cmds {
		if first, _, _ := strings.Cut(c.Name, " "); first == word {
			out = append(out, c)
		}
	}
	return out
}
