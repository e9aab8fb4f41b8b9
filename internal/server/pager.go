package server

import (
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	forminput "github.com/family-advocacy/lms/internal/input" // input is the template helper here
)

// pager describes one page of a long list.
type pager struct {
	Page, PerPage, Total int
	PrevURL, NextURL     string
}

// newPager reads ?page= and builds links that keep the other query values.
func newPager(c *fiber.Ctx, perPage, total int) pager {
	page := pageNumber(c)
	p := pager{Page: page, PerPage: perPage, Total: total}
	q := url.Values{}
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) { q.Set(string(k), string(v)) })
	link := func(n int) string {
		q.Set("page", strconv.Itoa(n))
		return c.Path() + "?" + q.Encode()
	}
	if page > 1 {
		p.PrevURL = link(page - 1)
	}
	if page*perPage < total {
		p.NextURL = link(page + 1)
	}
	return p
}

// Offset is the number of items before this page.
func (p pager) Offset() int { return (p.Page - 1) * p.PerPage }

// Pages is the number of pages.
func (p pager) Pages() int {
	if p.Total == 0 {
		return 1
	}
	return (p.Total + p.PerPage - 1) / p.PerPage
}

// pageOffset reads ?page= before the total is known.
func pageOffset(c *fiber.Ctx, perPage int) int {
	return (pageNumber(c) - 1) * perPage
}

// maxPage bounds ?page=, so that no offset overflows.
const maxPage = 1_000_000

// pageNumber reads ?page=: a whole number from 1 to maxPage; anything else
// is the first page.
func pageNumber(c *fiber.Ctx) int {
	page, p := forminput.Int(c.Query("page"), 1, maxPage)
	if p != forminput.OK {
		return 1
	}
	return page
}
