package ui

import (
	"net/http"

	"github.com/crmleads/crm"
)

type userForm struct{ Email, Name, Role string }

type usersData struct {
	Users  []*crm.User
	Roles  []crm.Role
	Form   userForm
	Errors map[string]string
}

// usersPage lists the users. Only an admin may: the service says so, and
// anybody else gets the friendly 403 page.
func (a *App) usersPage(w http.ResponseWriter, r *http.Request, v *view) {
	a.showUsers(w, r, v, userForm{Role: string(crm.RoleManager)}, nil, http.StatusOK)
}

func (a *App) showUsers(w http.ResponseWriter, r *http.Request, v *view, f userForm, errs map[string]string, status int) {
	us, err := a.deps.Users.Users(r.Context())
	if err != nil {
		a.fail(w, r, v, err)
		return
	}
	v.Title, v.Nav = v.L.T("nav.admin"), "admin"
	v.Data = usersData{Users: us, Roles: crm.Roles, Form: f, Errors: errs}
	a.render(w, r, v, "users", status)
}

func (a *App) userCreate(w http.ResponseWriter, r *http.Request, v *view) {
	f := userForm{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Role: r.PostFormValue("role")}
	u, err := a.deps.Users.CreateUser(r.Context(), crm.UserInput{Email: f.Email, Name: f.Name,
		Role: crm.Role(f.Role), Password: r.PostFormValue("password")})
	if err == nil {
		a.redirect(w, r, "/app/admin/users", ok(v.L.T("flash.user_created", u.Email)))
		return
	}
	if errs, invalid := fieldErrors(v.L, err); invalid {
		v.Flash = bad(v.L.T("error.form"))
		a.showUsers(w, r, v, f, errs, http.StatusUnprocessableEntity)
		return
	}
	if crm.IsKind(err, crm.ECONFLICT) { // email taken: say so next to the field
		v.Flash = bad(v.L.T("error.form"))
		a.showUsers(w, r, v, f, map[string]string{"email": a.explain(v.L, err)}, http.StatusConflict)
		return
	}
	a.fail(w, r, v, err)
}

func (a *App) userUpdate(w http.ResponseWriter, r *http.Request, v *view) {
	var up crm.UserUpdate
	if role := r.PostFormValue("role"); role != "" {
		rl := crm.Role(role)
		up.Role = &rl
	}
	switch r.PostFormValue("active") {
	case "true":
		up.Active = new(true)
	case "false":
		up.Active = new(false)
	}
	_, err := a.deps.Users.UpdateUser(r.Context(), r.PathValue("id"), up)
	switch {
	case err == nil:
		a.redirect(w, r, "/app/admin/users", ok(v.L.T("flash.user_saved")))
	case crm.IsKind(err, crm.ECONFLICT), crm.IsKind(err, crm.EINVALID):
		a.redirect(w, r, "/app/admin/users", bad(a.explain(v.L, err)))
	default:
		a.fail(w, r, v, err)
	}
}
