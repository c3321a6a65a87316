/** The --data help shared by train and eval: every spec, and how generated datasets take options. */
export const DATA_HELP =
  "'mnist-lines' (embedded digit lines; options as 'mnist-lines:maxDigits=12,slant=0.3', names in @scriptorium/data's " +
  "MnistLayoutOptions), 'mnist-unseen[:OPTIONS]' (a held-out layout family, for evaluation), 'textlines[:OPTIONS]' (English lines in " +
  "handwriting fonts; options in TEXTLINES_DEFAULTS, e.g. 'textlines:maxWords=6'), 'manifest:FILE.tsv', " +
  "'iam:DIR', 'gt:DIR' (images + .gt.txt) or 'page:DIR' (PAGE XML)";
