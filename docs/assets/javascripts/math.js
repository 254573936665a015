// Render the math that pymdownx.arithmatex marked (class "arithmatex") with the
// vendored KaTeX; document$ is Material's page-load observable (instant navigation too).
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
  });
});
