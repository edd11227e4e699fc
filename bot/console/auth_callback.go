package console

import (
	"crypto/subtle"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/seintje/seintje/bot/audit"
)

// authCallback finishes the sign-in: the state must be this browser's,
// the code is exchanged with the PKCE verifier, the ID token verified
// (issuer, audience, expiry, signature, nonce) and the roles read from
// the configured claim. Nobody without a role gets a session.
func (c *Console) authCallback(w http.ResponseWriter, r *http.Request) {
	if !c.d.Config.OIDC.Configured() {
		c.notFound(w, r)
		return
	}
	q := r.URL.Query()
	ck, err := r.Cookie(oidcStateCookie)
	state := q.Get("state")
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(state)) != 1 {
		c.errorPage(w, r, http.StatusBadRequest, "error.oidc.title", "error.oidc.state")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Path: "/console/auth", MaxAge: -1, HttpOnly: true, Secure: true})
	flow, err := c.takeFlow(r.Context(), state)
	if err != nil {
		c.errorPage(w, r, http.StatusBadRequest, "error.oidc.title", "error.oidc.state")
		return
	}
	if e := q.Get("error"); e != "" {
		c.d.Log.WarnContext(r.Context(), "oidc sign-in refused by the provider", "error", e)
		c.errorPage(w, r, http.StatusForbidden, "error.oidc.title", "error.oidc.refused")
		return
	}
	p, ok := c.providerOrError(w, r)
	if !ok {
		return
	}
	ctx := oidc.ClientContext(r.Context(), c.d.HTTPClient)
	tok, err := p.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		c.d.Log.WarnContext(r.Context(), "oidc code exchange failed", "err", err)
		c.errorPage(w, r, http.StatusBadGateway, "error.oidc.title", "error.oidc.exchange")
		return
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		c.errorPage(w, r, http.StatusBadGateway, "error.oidc.title", "error.oidc.exchange")
		return
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		c.d.Log.WarnContext(r.Context(), "oidc id token refused", "err", err)
		c.errorPage(w, r, http.StatusBadGateway, "error.oidc.title", "error.oidc.exchange")
		return
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		c.serverError(w, r, err)
		return
	}
	actor := claimString(claims, "preferred_username", "email", "upn")
	if actor == "" {
		actor = idt.Subject
	}
	name := claimString(claims, "name", "given_name", "preferred_username", "email")
	if name == "" {
		name = actor
	}
	roles := rolesFrom(claims, c.d.Config.OIDC)
	if len(roles) == 0 {
		actx := audit.WithActor(r.Context(), audit.Actor{Name: actor, Via: "console"})
		if err := c.d.Audit.Record(actx, audit.Entry{Action: audit.ActionAccessRefused, Detail: "sign-in without a Seintje role"}); err != nil {
			c.d.Log.WarnContext(r.Context(), "audit refused sign-in", "err", err)
		}
		c.errorPage(w, r, http.StatusForbidden, "error.norole.title", "error.norole.body")
		return
	}
	r.Form = nil // next comes from the stored flow, not the query
	r.URL.RawQuery = "next=" + urlQueryEscape(flow.Next)
	c.signIn(w, r, Session{Subject: idt.Subject, Actor: actor, Name: name, Roles: roles, IDToken: raw})
}
