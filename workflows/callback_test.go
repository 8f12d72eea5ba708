package workflows

// testsuite_callback records an update's completion for tests that check
// how an update failed.
type testsuite_callback struct {
	onComplete func(error)
}

func (c *testsuite_callback) Accept()                   {}
func (c *testsuite_callback) Reject(err error)          { c.onComplete(err) }
func (c *testsuite_callback) Complete(_ any, err error) { c.onComplete(err) }
