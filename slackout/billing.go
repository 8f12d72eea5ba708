package slackout

import "github.com/slack-go/slack"

// BillingAlertBlocks is a billing alert (plain text) with the buttons that
// help with it: Show licence, and while the licence owes money, Send card
// links and Charge now, which ask first because they mail customers or
// charge a card.
func BillingAlertBlocks(alert, sen string, owes bool) []slack.Block {
	buttons := []Button{Run("Show licence", "show", sen)}
	if owes {
		links := Run("Send card links", "card", sen)
		links.Dialog = &Dialog{Title: "Send card links?", Text: "Everyone allowed to update the card of " + Escape(sen) + " gets a link by email.",
			Yes: "Send card links", No: "Don't send"}
		charge := Run("Charge now", "charge", sen)
		charge.Dialog = &Dialog{Title: "Charge now?", Text: "The outstanding invoice of " + Escape(sen) + " is charged to the card on file at once.",
			Yes: "Charge now", No: "Don't charge"}
		buttons = append(buttons, links, charge)
	}
	return []slack.Block{MrkdwnSection(Escape(alert)), Actions("billing_"+Truncate(sen, 200), buttons...)}
}
