package web

import (
	"html/template"
	"slices"
)

// Form errors beside their fields (review #16): an error that names its
// field (licensing.Error.Field) is shown right above that field, whose
// input is marked aria-invalid and described by the message; an error
// that names none, or a field the form does not have, stays at the top
// of the form.

// formField is the field of a form an error is about, "" when the form
// has no such field (the message then goes at the top).
func formField(field string, fields ...string) string {
	if slices.Contains(fields, field) {
		return field
	}
	return ""
}

// The fields of each form, as errors name them.
var (
	accountSetupFields   = []string{"display_name", "password", "password_confirm"}
	signinFields         = []string{"email", "password", "credentials"}
	forgotFields         = []string{"email"}
	resetFields          = []string{"password", "password_confirm"}
	profileFields        = []string{"display_name", "phone", "company", "address"}
	passwordChangeFields = []string{"current_password", "password", "password_confirm"}
	addContactFields     = []string{"role", "email"}
)

// invalidAttrs marks an input whose field has the error: aria-invalid,
// and aria-describedby naming the message's element (id). Both are our
// own constants, never input.
func invalidAttrs(field, errField, id string) template.HTMLAttr {
	if field == "" || field != errField {
		return ""
	}
	return template.HTMLAttr(`aria-invalid="true" aria-describedby="` + template.HTMLEscapeString(id) + `"`)
}

// pageFuncs are the template functions both page sets share.
var pageFuncs = template.FuncMap{
	"invalid": invalidAttrs,
	// is says whether the error is about field (or about both fields of a
	// pair, "credentials" for email and password).
	"is": func(errField string, fields ...string) bool {
		return errField != "" && slices.Contains(fields, errField)
	},
}
