// The error every dataset reader and split throws for bad input the user can fix: the message names
// the file (or class) and says what is wrong and what to do, so the CLI prints it as is.

export class DatasetError extends Error {
  override name = "DatasetError";
}
