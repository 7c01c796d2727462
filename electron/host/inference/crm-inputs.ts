// The CRM's model inputs from the filled prompt and the picture, as the seed builds them:
// one user turn holding the image and then the text, Qwen2.5-VL's chat template with the
// generation prompt, and the processor, which expands <|image_pad|> to the image's token
// count (grid_t·grid_h·grid_w / merge²) and cuts the picture into patches.
import type { Processor, Tensor } from '@huggingface/transformers';
import type { CrmPicture } from './crm-image.ts';

export interface CrmInputs {
  /** The chat-templated text (one <|image_pad|>, before the processor expands it). */
  text: string;
  /** What generate() takes: input_ids, attention_mask, pixel_values, image_grid_thw. */
  inputs: Record<string, Tensor> & { input_ids: Tensor; image_grid_thw: Tensor };
  grid: [number, number, number];
  imageTokens: number;
  promptTokens: number;
}

export function crmChatText(processor: Processor, promptText: string): string {
  const messages = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: promptText }] }];
  return processor.apply_chat_template(messages as never, { add_generation_prompt: true }) as string;
}

export async function crmInputs(processor: Processor, promptText: string, picture: CrmPicture): Promise<CrmInputs> {
  const text = crmChatText(processor, promptText);
  const inputs = await processor(text, picture.image);
  const [seenHeight, seenWidth] = (inputs.reshaped_input_sizes as number[][])[0]!;
  // The processor must leave the aligned picture alone; had it resampled (its limits
  // disagreeing with the config we read) the model would see sharp's resize, not the seed's.
  if (seenWidth !== picture.width || seenHeight !== picture.height) {
    throw new Error(`the processor resized the ${picture.width}×${picture.height} CRM picture to ${seenWidth}×${seenHeight}: preprocessor_config.json's limits are inconsistent`);
  }
  const grid = (inputs.image_grid_thw.tolist() as bigint[][])[0]!.map(Number) as [number, number, number];
  const merge = (processor.image_processor as unknown as { merge_size?: number } | undefined)?.merge_size ?? 2;
  return {
    text,
    inputs,
    grid,
    imageTokens: (grid[0] * grid[1] * grid[2]) / (merge * merge),
    promptTokens: inputs.input_ids.dims[1] as number,
  };
}
