package bot

import (
	"context"
	"fmt"

	"licensedesk/licensing"
)

// ResendCommand is /license resend <workflow-id> [email]. Pressed again
// within ten minutes, or after the operation ended, it says what happened
// instead of mailing again.
func ResendCommand(ops Workflows) Command {
	return Command{
		Name: "resend", Args: "<workflow-id> [email]", Class: Act, MinArgs: 1, MaxArgs: 2,
		Summary: "Mail a fresh link for the step an operation waits on (to one person, or all it waits on); the old link stops working. Once per person per 10 minutes.",
		Run: func(ctx context.Context, req Request) (Reply, error) {
			id, err := workflowID(req.Args[0])
			if err != nil {
				return Reply{}, err
			}
			var email licensing.Email
			if len(req.Args) == 2 {
				if email, err = licensing.ParseEmail(req.Args[1]); err != nil {
					return Reply{}, asInvalid(err)
				}
			}
			sent, err := ops.Resend(ctx, id, email, req.UserID)
			if licensing.ErrorCode(err) == licensing.NotFound {
				// Ended, or never was: say how it ended when it did.
				if st, serr := ops.Status(ctx, id); serr == nil && st.Done {
					return Reply{}, ended(st)
				}
			}
			if err != nil {
				return Reply{}, err
			}
			return ephemeral(fmt.Sprintf("A fresh link went to %s; the one sent before no longer works. The operation's thread says so too.", escape(emailList(sent)))), nil
		},
	}
}
