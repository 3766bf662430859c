// Package ui is the managers' web app: server-rendered pages (html/template,
// embedded and parsed at start, so a broken template stops the start rather
// than a click), one stylesheet and a little vanilla JavaScript with
// content-hashed URLs, in Ukrainian and English. Forms post, then redirect
// (post/redirect/get), and carry a CSRF token; the session cookie holds the
// same access token as the API, resolved by auth.Tokens.Actor.
//
// The pages call the same crm.Services as the JSON API, so every rule and
// every visibility check is the domain's; ui does not import web.
package ui
